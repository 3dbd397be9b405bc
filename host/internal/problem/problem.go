package problem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/limit"
	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// ContentType is the media type of a problem details document.
const ContentType = "application/problem+json"

// TypeBase is the URI that every problem type of this API starts with; the
// fragment that follows it names a section of docs/http-api.md.
const TypeBase = "https://github.com/modelhost/modelhost/blob/main/docs/http-api.md#"

// The problem types of the API. Each is documented in docs/http-api.md under
// a heading equal to its fragment.
const (
	// TypeMalformedJSON: the request body is empty, unreadable or not one
	// well-formed JSON document (400).
	TypeMalformedJSON = TypeBase + "malformed-json"
	// TypeUnsupportedMediaType: the request's Content-Type is not JSON (415).
	TypeUnsupportedMediaType = TypeBase + "unsupported-media-type"
	// TypeBodyTooLarge: the request body exceeds the server's limit (413).
	TypeBodyTooLarge = TypeBase + "body-too-large"
	// TypeModelNotFound: no model has the name in the URL (404).
	TypeModelNotFound = TypeBase + "model-not-found"
	// TypeInvalidInput: the input does not satisfy the model's input schema,
	// or the model rejected it (422).
	TypeInvalidInput = TypeBase + "invalid-input"
	// TypeModelFailed: the model's code failed (500).
	TypeModelFailed = TypeBase + "model-failed"
	// TypeModelUnavailable: the model's plugin process cannot be reached
	// (503).
	TypeModelUnavailable = TypeBase + "model-unavailable"
	// TypeModelTimeout: the model did not answer within its predict timeout
	// (504).
	TypeModelTimeout = TypeBase + "model-timeout"
	// TypeRequestCanceled: the request was canceled before the model
	// answered, usually because the server is shutting down (503).
	TypeRequestCanceled = TypeBase + "request-canceled"
	// TypeBadPluginResponse: the model's plugin answered something the host
	// cannot use (502).
	TypeBadPluginResponse = TypeBase + "bad-plugin-response"
	// TypeNotFound: no resource exists at the request's path (404).
	TypeNotFound = TypeBase + "not-found"
	// TypeMethodNotAllowed: the resource exists but does not support the
	// request's method (405).
	TypeMethodNotAllowed = TypeBase + "method-not-allowed"
	// TypeInternalError: the server failed in a way it did not anticipate
	// (500).
	TypeInternalError = TypeBase + "internal-error"
	// TypeUnauthorized: the API requires a bearer token and the request
	// has none, or one the server does not accept (401).
	TypeUnauthorized = TypeBase + "unauthorized"
	// TypeModelBusy: the model is answering as many requests as it may at
	// once and its wait queue is full, or the request waited too long for
	// its turn (429).
	TypeModelBusy = TypeBase + "model-busy"
	// TypeHeadersTooLarge: the request's header section is larger than the
	// server accepts (431).
	TypeHeadersTooLarge = TypeBase + "headers-too-large"
	// TypeRequestTimeout: the request body did not arrive within the
	// server's read timeout (408).
	TypeRequestTimeout = TypeBase + "request-timeout"
	// TypeBatchTooLarge: a batch prediction carries more inputs than the
	// server accepts in one request (413).
	TypeBatchTooLarge = TypeBase + "batch-too-large"
	// TypeModelVersionNotFound: the model in the URL is served, but not at
	// the version in the URL (404).
	TypeModelVersionNotFound = TypeBase + "model-version-not-found"
	// TypeForbidden: the endpoint is switched off by the configuration
	// (403).
	TypeForbidden = TypeBase + "forbidden"
	// TypeInvalidConfig: a reload found the configuration file invalid and
	// changed nothing (422).
	TypeInvalidConfig = TypeBase + "invalid-config"
)

// allTypes lists every type constant, for tests.
var allTypes = []string{
	TypeMalformedJSON, TypeUnsupportedMediaType, TypeBodyTooLarge,
	TypeModelNotFound, TypeInvalidInput, TypeModelFailed, TypeModelUnavailable,
	TypeModelTimeout, TypeRequestCanceled, TypeBadPluginResponse, TypeNotFound,
	TypeMethodNotAllowed, TypeInternalError, TypeUnauthorized, TypeModelBusy,
	TypeHeadersTooLarge, TypeRequestTimeout, TypeBatchTooLarge,
	TypeModelVersionNotFound, TypeForbidden, TypeInvalidConfig,
}

// Details is an RFC 9457 problem details object. A *Details is also an
// error, so that handlers can return one and have it written as it is.
type Details struct {
	// Type is a URI that identifies the kind of problem, one of the Type*
	// constants or "about:blank".
	Type string `json:"type"`
	// Title is a short summary of the problem type; it is the same for every
	// occurrence of a type.
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence of the problem to a person.
	Detail string `json:"detail"`
	// Instance identifies this occurrence; Write sets it to the request's
	// path when it is empty.
	Instance string `json:"instance,omitempty"`
	// Errors locates the problems inside the request body, for
	// TypeInvalidInput.
	Errors []FieldError `json:"errors,omitempty"`
	// Diagnostics lists the problems of an invalid configuration
	// (invalid-config), each as "file:line,col: summary; detail".
	Diagnostics []string `json:"diagnostics,omitempty"`
	// RetryAfter, if positive, replaces the one second that Write sends as
	// Retry-After on 429 and 503. It is not part of the document.
	RetryAfter time.Duration `json:"-"`
}

// FieldError is one problem located at a value of the request body.
type FieldError struct {
	// Pointer is a JSON Pointer (RFC 6901) to the offending value, for
	// example "/petal_width"; "" means the whole body.
	Pointer string `json:"pointer"`
	// Detail explains the problem with that value.
	Detail string `json:"detail"`
}

// Error implements error.
func (d *Details) Error() string {
	return fmt.Sprintf("%d %s: %s", d.Status, d.Title, d.Detail)
}

// ValidationError is an input that does not satisfy a model's input schema.
// FromError maps it to 422 with Fields as the errors list.
type ValidationError struct {
	// Fields lists each way in which the input fails the schema.
	Fields []FieldError
}

// Error implements error.
func (e *ValidationError) Error() string {
	msg := "input does not match the model's input schema"
	for _, f := range e.Fields {
		msg += "; " + f.Pointer + ": " + f.Detail
	}
	return msg
}

// TimeoutError records the predict timeout that a call exceeded, so that the
// response can name it. It wraps the call's error, which matches
// context.DeadlineExceeded.
type TimeoutError struct {
	// Timeout is the predict timeout that applied to the call.
	Timeout time.Duration
	// Err is the call's error.
	Err error
}

// Error implements error.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("no answer within the predict timeout of %s: %v", e.Timeout, e.Err)
}

// Unwrap returns the call's error.
func (e *TimeoutError) Unwrap() error { return e.Err }

// FromError maps err to the problem details the client receives. It never
// returns nil; a nil err maps to an internal error. For 5xx statuses the
// detail is generic and never contains err's text: log err itself.
func FromError(err error) *Details {
	var (
		details  *Details
		httpErr  *echo.HTTPError
		valErr   *ValidationError
		inputErr *sdk.InputError
		timeout  *TimeoutError
		busy     *limit.BusyError
	)
	switch {
	case err == nil:
		return internalError()
	case errors.As(err, &details):
		return details
	case errors.As(err, &httpErr):
		return fromHTTPError(httpErr)
	case errors.As(err, &valErr):
		return invalidInput("the input does not match the model's input schema", valErr.Fields)
	case errors.As(err, &inputErr):
		detail := inputErr.Detail
		if detail == "" {
			detail = "the model rejected the input"
		}
		fields := make([]FieldError, len(inputErr.Fields))
		for i, f := range inputErr.Fields {
			fields[i] = FieldError{Pointer: f.Pointer, Detail: f.Detail}
		}
		return invalidInput(detail, fields)
	case errors.Is(err, sdk.ErrInvalidInput):
		return invalidInput("the model rejected the input", nil)
	case errors.As(err, &busy):
		return ModelBusy(busy.Detail)
	case errors.Is(err, registry.ErrVersionNotFound):
		return &Details{
			Type:   TypeModelVersionNotFound,
			Title:  "Model version not found",
			Status: http.StatusNotFound,
			Detail: "the model is served, but not at this version; GET /api/models lists the versions",
		}
	case errors.Is(err, registry.ErrNotFound):
		return &Details{
			Type:   TypeModelNotFound,
			Title:  "Model not found",
			Status: http.StatusNotFound,
			Detail: "no model with this name is served; GET /api/models lists the models",
		}
	case errors.Is(err, context.DeadlineExceeded):
		detail := "the model did not answer within its predict timeout"
		if errors.As(err, &timeout) && timeout.Timeout > 0 {
			detail += " of " + timeout.Timeout.String()
		}
		return &Details{
			Type:   TypeModelTimeout,
			Title:  "Model timed out",
			Status: http.StatusGatewayTimeout,
			Detail: detail,
		}
	case errors.Is(err, plugin.ErrUnavailable):
		return withHints(&Details{
			Type:   TypeModelUnavailable,
			Title:  "Model unavailable",
			Status: http.StatusServiceUnavailable,
			Detail: "the model's plugin process cannot be reached right now; try again shortly",
		}, err)
	case errors.Is(err, context.Canceled):
		return &Details{
			Type:   TypeRequestCanceled,
			Title:  "Request canceled",
			Status: http.StatusServiceUnavailable,
			Detail: "the request was canceled before the model answered; try again",
		}
	case errors.Is(err, plugin.ErrProtocol):
		return withHints(&Details{
			Type:   TypeBadPluginResponse,
			Title:  "Bad plugin response",
			Status: http.StatusBadGateway,
			Detail: "the model's plugin answered something the server cannot use; the error has been logged",
		}, err)
	case errors.Is(err, plugin.ErrModelFailed):
		return &Details{
			Type:   TypeModelFailed,
			Title:  "Model failed",
			Status: http.StatusInternalServerError,
			Detail: "the model failed to compute a prediction; the error has been logged",
		}
	default:
		return internalError()
	}
}

func invalidInput(detail string, fields []FieldError) *Details {
	if len(fields) == 0 {
		fields = nil
	}
	return &Details{
		Type:   TypeInvalidInput,
		Title:  "Invalid input",
		Status: http.StatusUnprocessableEntity,
		Detail: detail,
		Errors: fields,
	}
}

func internalError() *Details {
	return &Details{
		Type:   TypeInternalError,
		Title:  "Internal server error",
		Status: http.StatusInternalServerError,
		Detail: "the server failed to handle the request; the error has been logged",
	}
}

// fromHTTPError maps Echo's own errors: unknown routes, wrong methods, and
// whatever middleware reports.
func fromHTTPError(he *echo.HTTPError) *Details {
	switch code := he.Code; {
	case code == http.StatusNotFound:
		return NotFound()
	case code == http.StatusMethodNotAllowed:
		return &Details{
			Type:   TypeMethodNotAllowed,
			Title:  "Method not allowed",
			Status: http.StatusMethodNotAllowed,
			Detail: "this path does not support the request's method; the Allow header lists the methods it does",
		}
	case code == http.StatusRequestEntityTooLarge:
		return &Details{
			Type:   TypeBodyTooLarge,
			Title:  "Request body too large",
			Status: http.StatusRequestEntityTooLarge,
			Detail: "the request body is larger than the server accepts",
		}
	case code == http.StatusUnsupportedMediaType:
		return UnsupportedMediaType("")
	case code == http.StatusUnauthorized:
		return Unauthorized("this endpoint requires an API token; send Authorization: Bearer TOKEN")
	case code == http.StatusRequestHeaderFieldsTooLarge:
		return &Details{
			Type:   TypeHeadersTooLarge,
			Title:  "Request headers too large",
			Status: http.StatusRequestHeaderFieldsTooLarge,
			Detail: "the request's headers are larger than the server accepts",
		}
	case code >= 400 && code < 500 && http.StatusText(code) != "":
		detail := http.StatusText(code)
		if msg, ok := he.Message.(string); ok && msg != "" {
			detail = msg
		}
		return &Details{
			Type:   "about:blank",
			Title:  http.StatusText(code),
			Status: code,
			Detail: detail,
		}
	default:
		return internalError()
	}
}

// MalformedJSON is a request body that is not one well-formed JSON document.
// detail says what is wrong and where, for example "invalid character '}'
// at line 1, column 12 (byte offset 11)".
func MalformedJSON(detail string) *Details {
	return &Details{
		Type:   TypeMalformedJSON,
		Title:  "Malformed JSON",
		Status: http.StatusBadRequest,
		Detail: detail,
	}
}

// UnsupportedMediaType is a request body that is not declared as JSON.
// contentType is the request's Content-Type header, "" if it had none.
func UnsupportedMediaType(contentType string) *Details {
	detail := "the request has no Content-Type"
	if contentType != "" {
		detail = "Content-Type " + strconv.Quote(contentType) + " is not supported"
	}
	return &Details{
		Type:   TypeUnsupportedMediaType,
		Title:  "Unsupported media type",
		Status: http.StatusUnsupportedMediaType,
		Detail: detail + "; send Content-Type: application/json",
	}
}

// BodyTooLarge is a request body larger than limit bytes.
func BodyTooLarge(limit int64) *Details {
	return &Details{
		Type:   TypeBodyTooLarge,
		Title:  "Request body too large",
		Status: http.StatusRequestEntityTooLarge,
		Detail: fmt.Sprintf("the request body is larger than the limit of %d bytes", limit),
	}
}

// ModelNotFound is a request for a model called name that is not served.
// A name longer than sdk.MaxQualifiedNameLength is shortened in the detail.
func ModelNotFound(name string) *Details {
	if len(name) > sdk.MaxQualifiedNameLength {
		name = name[:sdk.MaxQualifiedNameLength] + "..."
	}
	return &Details{
		Type:   TypeModelNotFound,
		Title:  "Model not found",
		Status: http.StatusNotFound,
		Detail: fmt.Sprintf("no model called %q is served; GET /api/models lists the models", name),
	}
}

// Forbidden is a request for an endpoint that the configuration switches
// off; detail says how to switch it on.
func Forbidden(detail string) *Details {
	return &Details{Type: TypeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: detail}
}

// InvalidConfig is a reload that found the configuration invalid;
// diagnostics are its problems, each as "file:line,col: summary; detail",
// in the extension member "diagnostics".
func InvalidConfig(diagnostics []string) *Details {
	return &Details{
		Type:        TypeInvalidConfig,
		Title:       "Invalid configuration",
		Status:      http.StatusUnprocessableEntity,
		Detail:      "the configuration file is invalid; nothing was changed and the models keep running as before",
		Diagnostics: diagnostics,
	}
}

// ModelVersionNotFound is a request for version of the model called name,
// which is served at the versions in served only. Long values are
// shortened in the detail.
func ModelVersionNotFound(name, version string, served []string) *Details {
	if len(name) > sdk.MaxQualifiedNameLength {
		name = name[:sdk.MaxQualifiedNameLength] + "..."
	}
	if len(version) > maxVersionInDetail {
		version = version[:maxVersionInDetail] + "..."
	}
	detail := fmt.Sprintf("model %q is not served at version %q", name, version)
	if len(served) > 0 {
		detail += "; it is served at " + strings.Join(served, ", ")
	}
	return &Details{
		Type:   TypeModelVersionNotFound,
		Title:  "Model version not found",
		Status: http.StatusNotFound,
		Detail: detail,
	}
}

// maxVersionInDetail bounds a version echoed back in a detail.
const maxVersionInDetail = 64

// NotFound is a request for a path where the API has no resource.
func NotFound() *Details {
	return &Details{
		Type:   TypeNotFound,
		Title:  "Not found",
		Status: http.StatusNotFound,
		Detail: "there is no resource at this path; the API's resources are under /api/models",
	}
}

// Unauthorized is a request to an API that requires a bearer token, with
// no token or one the server does not accept. detail must not contain the
// token. Write adds the WWW-Authenticate header that a 401 must have,
// unless the response already has one.
func Unauthorized(detail string) *Details {
	return &Details{
		Type:   TypeUnauthorized,
		Title:  "Unauthorized",
		Status: http.StatusUnauthorized,
		Detail: detail,
	}
}

// ModelBusy is a request that the model could not take on: detail says
// whether its wait queue was full or the request waited too long. Write
// adds Retry-After.
func ModelBusy(detail string) *Details {
	return &Details{
		Type:   TypeModelBusy,
		Title:  "Model busy",
		Status: http.StatusTooManyRequests,
		Detail: detail,
	}
}

// InvalidInput is a well-formed input that the server refuses before any
// schema validation, for example a number out of the range it supports;
// fields locate the offending values.
func InvalidInput(detail string, fields []FieldError) *Details {
	return invalidInput(detail, fields)
}

// BatchTooLarge is a batch prediction of n inputs, more than the limit.
func BatchTooLarge(n, limit int) *Details {
	return &Details{
		Type:   TypeBatchTooLarge,
		Title:  "Batch too large",
		Status: http.StatusRequestEntityTooLarge,
		Detail: fmt.Sprintf("the batch has %d inputs, more than the limit of %d; split it into smaller batches", n, limit),
	}
}

// RequestTimeout is a request whose body did not arrive in time.
func RequestTimeout() *Details {
	return &Details{
		Type:   TypeRequestTimeout,
		Title:  "Request timeout",
		Status: http.StatusRequestTimeout,
		Detail: "the request body did not arrive within the time the server waits for a whole request; send it faster, or a smaller one",
	}
}

// HeadersTooLarge is a request whose header section is larger than limit
// bytes.
func HeadersTooLarge(limit int) *Details {
	return &Details{
		Type:   TypeHeadersTooLarge,
		Title:  "Request headers too large",
		Status: http.StatusRequestHeaderFieldsTooLarge,
		Detail: fmt.Sprintf("the request line and headers are larger than the limit of %d bytes", limit),
	}
}

// WWWAuthenticate is the challenge sent with a 401 when the handler did
// not set one (RFC 6750).
const WWWAuthenticate = `Bearer realm="modelhost"`

// Write sends d as the response: status d.Status, Content-Type
// application/problem+json, Retry-After on 429 and 503 (d.RetryAfter in
// whole seconds rounded up, 1 if it is not set), and a
// WWW-Authenticate challenge on 401 if the response has none yet. When
// d.Instance is empty, the response's instance is the request's path
// (escaped, as it is a URI reference); a status outside 100-999 is sent as
// 500. d itself is not modified.
func Write(c echo.Context, d *Details) error {
	out := *d
	if out.Status < 100 || out.Status > 999 {
		out.Status = http.StatusInternalServerError
	}
	if out.Instance == "" && c.Request().URL != nil {
		out.Instance = c.Request().URL.EscapedPath()
	}
	switch h := c.Response().Header(); out.Status {
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		h.Set("Retry-After", retryAfterSeconds(out.RetryAfter))
	case http.StatusUnauthorized:
		if h.Get("WWW-Authenticate") == "" {
			h.Set("WWW-Authenticate", WWWAuthenticate)
		}
	}
	b, err := json.Marshal(&out)
	if err != nil {
		return fmt.Errorf("encode problem details: %w", err)
	}
	return c.Blob(out.Status, ContentType, b)
}
