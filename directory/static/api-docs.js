// The API reference page (/api/v1/docs): Swagger UI, vendored in static/swagger-ui/,
// reading the document this site serves. A file, not an inline script: the CSP allows 'self' only.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null, // no call to an outside validator
    supportedSubmitMethods: ["get", "head"],
  });
});
