"""Input a service cannot use, named by the field it came in, so a page can mark
that field and the API can answer `{"error": {"field": ...}}`."""


class FieldError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
