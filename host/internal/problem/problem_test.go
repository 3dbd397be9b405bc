package problem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/host/internal/registry"
	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

func TestFromError(t *testing.T) {
	const secret = "secret stack trace at model.go:42"
	tests := []struct {
		name string
		err  error
		want *Details
	}{
		{
			name: "nil",
			err:  nil,
			want: internalError(),
		},
		{
			name: "registry not found",
			err:  fmt.Errorf("%w: %q", registry.ErrNotFound, "iris"),
			want: &Details{Type: TypeModelNotFound, Title: "Model not found", Status: 404,
				Detail: "no model with this name is served; GET /api/models lists the models"},
		},
		{
			name: "details pass through",
			err:  fmt.Errorf("wrapped: %w", ModelNotFound("iris")),
			want: &Details{Type: TypeModelNotFound, Title: "Model not found", Status: 404,
				Detail: `no model called "iris" is served; GET /api/models lists the models`},
		},
		{
			name: "sdk input error with fields",
			err: fmt.Errorf("predict: %w", sdk.InvalidInput("petals are never negative",
				sdk.FieldError{Pointer: "/petal_width", Detail: "must be >= 0"})),
			want: &Details{Type: TypeInvalidInput, Title: "Invalid input", Status: 422,
				Detail: "petals are never negative",
				Errors: []FieldError{{Pointer: "/petal_width", Detail: "must be >= 0"}}},
		},
		{
			name: "sdk input error without detail",
			err:  sdk.InvalidInput("", sdk.FieldError{Pointer: "", Detail: "bad"}),
			want: &Details{Type: TypeInvalidInput, Title: "Invalid input", Status: 422,
				Detail: "the model rejected the input",
				Errors: []FieldError{{Pointer: "", Detail: "bad"}}},
		},
		{
			name: "bare ErrInvalidInput",
			err:  fmt.Errorf("%w: nope", sdk.ErrInvalidInput),
			want: &Details{Type: TypeInvalidInput, Title: "Invalid input", Status: 422,
				Detail: "the model rejected the input"},
		},
		{
			name: "schema validation",
			err:  &ValidationError{Fields: []FieldError{{Pointer: "/petal_width", Detail: "is required"}}},
			want: &Details{Type: TypeInvalidInput, Title: "Invalid input", Status: 422,
				Detail: "the input does not match the model's input schema",
				Errors: []FieldError{{Pointer: "/petal_width", Detail: "is required"}}},
		},
		{
			name: "plugin unavailable",
			err:  fmt.Errorf("%w: connection refused", plugin.ErrUnavailable),
			want: &Details{Type: TypeModelUnavailable, Title: "Model unavailable", Status: 503,
				Detail: "the model's plugin process cannot be reached right now; try again shortly"},
		},
		{
			name: "deadline with known timeout",
			err:  &TimeoutError{Timeout: 1500 * time.Millisecond, Err: fmt.Errorf("plugin call: %w", context.DeadlineExceeded)},
			want: &Details{Type: TypeModelTimeout, Title: "Model timed out", Status: 504,
				Detail: "the model did not answer within its predict timeout of 1.5s"},
		},
		{
			name: "deadline without known timeout",
			err:  fmt.Errorf("plugin call: %w", context.DeadlineExceeded),
			want: &Details{Type: TypeModelTimeout, Title: "Model timed out", Status: 504,
				Detail: "the model did not answer within its predict timeout"},
		},
		{
			name: "canceled",
			err:  fmt.Errorf("plugin call: %w", context.Canceled),
			want: &Details{Type: TypeRequestCanceled, Title: "Request canceled", Status: 503,
				Detail: "the request was canceled before the model answered; try again"},
		},
		{
			name: "unavailable wins over canceled",
			err:  fmt.Errorf("%w: %w", plugin.ErrUnavailable, context.Canceled),
			want: &Details{Type: TypeModelUnavailable, Title: "Model unavailable", Status: 503,
				Detail: "the model's plugin process cannot be reached right now; try again shortly"},
		},
		{
			name: "model failed hides message",
			err:  fmt.Errorf("%w: %s", plugin.ErrModelFailed, secret),
			want: &Details{Type: TypeModelFailed, Title: "Model failed", Status: 500,
				Detail: "the model failed to compute a prediction; the error has been logged"},
		},
		{
			name: "protocol violation hides message",
			err:  fmt.Errorf("%w: %s", plugin.ErrProtocol, secret),
			want: &Details{Type: TypeBadPluginResponse, Title: "Bad plugin response", Status: 502,
				Detail: "the model's plugin answered something the server cannot use; the error has been logged"},
		},
		{
			name: "echo not found",
			err:  echo.ErrNotFound,
			want: NotFound(),
		},
		{
			name: "echo method not allowed",
			err:  echo.ErrMethodNotAllowed,
			want: &Details{Type: TypeMethodNotAllowed, Title: "Method not allowed", Status: 405,
				Detail: "this path does not support the request's method; the Allow header lists the methods it does"},
		},
		{
			name: "echo body too large",
			err:  echo.ErrStatusRequestEntityTooLarge,
			want: &Details{Type: TypeBodyTooLarge, Title: "Request body too large", Status: 413,
				Detail: "the request body is larger than the server accepts"},
		},
		{
			name: "echo unsupported media type",
			err:  echo.ErrUnsupportedMediaType,
			want: UnsupportedMediaType(""),
		},
		{
			name: "echo other 4xx",
			err:  echo.NewHTTPError(http.StatusTooManyRequests, "slow down"),
			want: &Details{Type: "about:blank", Title: "Too Many Requests", Status: 429, Detail: "slow down"},
		},
		{
			name: "echo 5xx hides message",
			err:  echo.NewHTTPError(http.StatusBadGateway, secret),
			want: internalError(),
		},
		{
			name: "echo error wins over its internal error",
			err:  echo.ErrNotFound.WithInternal(plugin.ErrModelFailed),
			want: NotFound(),
		},
		{
			name: "anything else hides message",
			err:  errors.New(secret),
			want: &Details{Type: TypeInternalError, Title: "Internal server error", Status: 500,
				Detail: "the server failed to handle the request; the error has been logged"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromError(tt.err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FromError(%v) mismatch (-want +got):\n%s", tt.err, diff)
			}
			if got.Status >= 500 && strings.Contains(got.Detail, secret) {
				t.Errorf("FromError(%v).Detail = %q, leaks the error text", tt.err, got.Detail)
			}
		})
	}
}

func TestConstructors(t *testing.T) {
	tests := []struct {
		name string
		got  *Details
		want *Details
	}{
		{
			name: "malformed JSON",
			got:  MalformedJSON("unexpected end of JSON input"),
			want: &Details{Type: TypeMalformedJSON, Title: "Malformed JSON", Status: 400,
				Detail: "unexpected end of JSON input"},
		},
		{
			name: "unsupported media type",
			got:  UnsupportedMediaType("text/plain"),
			want: &Details{Type: TypeUnsupportedMediaType, Title: "Unsupported media type", Status: 415,
				Detail: `Content-Type "text/plain" is not supported; send Content-Type: application/json`},
		},
		{
			name: "missing media type",
			got:  UnsupportedMediaType(""),
			want: &Details{Type: TypeUnsupportedMediaType, Title: "Unsupported media type", Status: 415,
				Detail: "the request has no Content-Type; send Content-Type: application/json"},
		},
		{
			name: "body too large",
			got:  BodyTooLarge(1024),
			want: &Details{Type: TypeBodyTooLarge, Title: "Request body too large", Status: 413,
				Detail: "the request body is larger than the limit of 1024 bytes"},
		},
		{
			name: "not found",
			got:  NotFound(),
			want: &Details{Type: TypeNotFound, Title: "Not found", Status: 404,
				Detail: "there is no resource at this path; the API's resources are under /api/models"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name           string
		details        *Details
		wantStatus     int
		wantRetryAfter string
		wantBody       map[string]any
	}{
		{
			name:       "instance defaults to the path",
			details:    ModelNotFound("iris"),
			wantStatus: 404,
			wantBody: map[string]any{
				"type":     TypeModelNotFound,
				"title":    "Model not found",
				"status":   float64(404),
				"detail":   `no model called "iris" is served; GET /api/models lists the models`,
				"instance": "/api/models/iris/predict",
			},
		},
		{
			name: "errors and explicit instance",
			details: &Details{Type: TypeInvalidInput, Title: "Invalid input", Status: 422,
				Detail: "d", Instance: "urn:x", Errors: []FieldError{{Pointer: "", Detail: "got array, want object"}}},
			wantStatus: 422,
			wantBody: map[string]any{
				"type":     TypeInvalidInput,
				"title":    "Invalid input",
				"status":   float64(422),
				"detail":   "d",
				"instance": "urn:x",
				"errors":   []any{map[string]any{"pointer": "", "detail": "got array, want object"}},
			},
		},
		{
			name:           "retry after on 503",
			details:        FromError(plugin.ErrUnavailable),
			wantStatus:     503,
			wantRetryAfter: "1",
			wantBody: map[string]any{
				"type":     TypeModelUnavailable,
				"title":    "Model unavailable",
				"status":   float64(503),
				"detail":   "the model's plugin process cannot be reached right now; try again shortly",
				"instance": "/api/models/iris/predict",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.details
			e := echo.New()
			req := httptest.NewRequest(http.MethodPost, "/api/models/iris/predict", nil)
			rec := httptest.NewRecorder()
			if err := Write(e.NewContext(req, rec), tt.details); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if rec.Code != tt.wantStatus {
				t.Errorf("status: got %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Content-Type"); got != ContentType {
				t.Errorf("Content-Type: got %q, want %q", got, ContentType)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.wantRetryAfter {
				t.Errorf("Retry-After: got %q, want %q", got, tt.wantRetryAfter)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if diff := cmp.Diff(tt.wantBody, body); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, *tt.details); diff != "" {
				t.Errorf("Write modified its argument (-before +after):\n%s", diff)
			}
		})
	}
}

// TestTypesAreDocumented checks that every problem type's fragment is a
// heading of docs/http-api.md, so that the type URIs resolve.
func TestTypesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "http-api.md"))
	if err != nil {
		t.Fatalf("read the API reference: %v", err)
	}
	headings := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{2,4} +(.+?) *$`).FindAllStringSubmatch(string(doc), -1) {
		headings[m[1]] = true
	}
	for _, typ := range allTypes {
		slug, ok := strings.CutPrefix(typ, TypeBase)
		if !ok {
			t.Errorf("type %q does not start with %q", typ, TypeBase)
			continue
		}
		if !headings[slug] {
			t.Errorf("docs/http-api.md has no heading %q for type %s", slug, typ)
		}
	}
}
