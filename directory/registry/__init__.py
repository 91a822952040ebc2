"""The NPPES registry: the NPI check digit, the import of the federal file of
providers, and the evidence it gives beside each license an admin decides on."""
