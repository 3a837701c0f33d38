"""Service-shaped errors: `{code, message, target, details, innerError{...}}` with the explicit nulls the real
service sends, plus Retry-After where a client is expected to come back."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.responses import JSONResponse

from local.speech_emulator.wire import ErrorBody, InnerError


class ApiError(Exception):
    """Raised anywhere in request handling; the pipeline turns it into the error response."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        inner_code: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.inner_code = inner_code or code
        self.retry_after = retry_after

    def body(self) -> ErrorBody:
        return ErrorBody(
            code=self.code,
            message=self.message,
            innerError=InnerError(code=self.inner_code, message=self.message),
        )

    def response(self) -> JSONResponse:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        return JSONResponse(self.body().model_dump(mode="json", by_alias=True), self.status, headers=headers)


def invalid_request(message: str, inner_code: str) -> ApiError:
    return ApiError(400, "InvalidRequest", message, inner_code=inner_code)


def not_found(what: str) -> ApiError:
    return ApiError(404, "NotFound", f"The specified {what} cannot be found.", inner_code="NotFound")


def unauthorized() -> ApiError:
    return ApiError(
        401,
        "Unauthorized",
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
        "for an active subscription and use a correct regional API endpoint for your resource.",
        inner_code="InvalidSubscription",
    )


def invalid_token(reason: str) -> ApiError:
    return ApiError(
        401,
        "Unauthorized",
        f"Access denied: {reason}. Use an Entra ID token for https://cognitiveservices.azure.com and the "
        "resource's custom subdomain endpoint.",
        inner_code="InvalidAuthenticationToken",
    )


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "TooManyRequests",
        "The number of requests exceeds the rate limit of the resource. Retry after the interval in the "
        "Retry-After header.",
        inner_code="QuotaViolation",
        retry_after=retry_after,
    )


def internal_error() -> ApiError:
    return ApiError(500, "InternalServerError", "An unexpected error occurred.", inner_code="UnexpectedError")


def service_unavailable(retry_after: int) -> ApiError:
    return ApiError(
        503,
        "ServiceUnavailable",
        "The service is temporarily unavailable. Retry after the interval in the Retry-After header.",
        inner_code="UnexpectedError",
        retry_after=retry_after,
    )


# DetailedErrorCodes that request-model validators raise as PydanticCustomError types.
_DETAILED_CODES = frozenset(
    {
        "InvalidPayload",
        "InvalidParameterValue",
        "InvalidTimeToLive",
        "InvalidLocale",
        "InvalidDataset",
        "OnlyOneOfUrlsOrContainerOrDataset",
        "ExceededNumberOfRecordingsUris",
    }
)


def from_validation(error: ValidationError, entity: str) -> ApiError:
    """The service's answer to an invalid body: InvalidRequest, with the specific DetailedErrorCode inside."""
    first = error.errors(include_url=False)[0]
    location = ".".join(str(part) for part in first["loc"])
    if first["type"] in {"json_invalid", "model_type"} and not first["loc"]:
        return invalid_request("The request body is not a valid JSON object.", "InvalidRequestBodyFormat")
    if first["type"] in _DETAILED_CODES:
        return invalid_request(first["msg"], first["type"])
    return invalid_request(f"The property {entity}.{location} is invalid: {first['msg']}.", "InvalidPayload")
