package problem

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestNewTypes(t *testing.T) {
	for _, tt := range []struct {
		d      *Details
		status int
		typ    string
	}{
		{Unauthorized("no token"), 401, TypeUnauthorized},
		{ModelBusy("busy"), 429, TypeModelBusy},
		{HeadersTooLarge(4096), 431, TypeHeadersTooLarge},
		{RequestTimeout(), 408, TypeRequestTimeout},
		{InvalidInput("numbers", []FieldError{{Pointer: "/a", Detail: "is too large"}}), 422, TypeInvalidInput},
		{FromError(echo.ErrUnauthorized), 401, TypeUnauthorized},
		{FromError(echo.NewHTTPError(http.StatusRequestHeaderFieldsTooLarge)), 431, TypeHeadersTooLarge},
		{FromError(fmt.Errorf("wrapped: %w", ModelBusy("busy"))), 429, TypeModelBusy},
	} {
		if tt.d.Status != tt.status || tt.d.Type != tt.typ || tt.d.Title == "" || tt.d.Detail == "" {
			t.Errorf("got %+v, want status %d type %s with title and detail", tt.d, tt.status, tt.typ)
		}
	}
	if d := InvalidInput("x", nil); d.Errors != nil {
		t.Errorf("InvalidInput with no fields: errors %v, want none", d.Errors)
	}
	var d *Details
	if !errors.As(HeadersTooLarge(4096), &d) || d.Detail != "the request line and headers are larger than the limit of 4096 bytes" {
		t.Errorf("HeadersTooLarge detail: %v", d)
	}
}

func TestWriteHeaders(t *testing.T) {
	write := func(d *Details, preset map[string]string) http.Header {
		t.Helper()
		c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/api/models", nil), httptest.NewRecorder())
		for k, v := range preset {
			c.Response().Header().Set(k, v)
		}
		if err := Write(c, d); err != nil {
			t.Fatal(err)
		}
		return c.Response().Header()
	}
	if got := write(ModelBusy("busy"), nil).Get("Retry-After"); got != "1" {
		t.Errorf("429 Retry-After = %q, want 1", got)
	}
	if got := write(Unauthorized("no"), nil).Get("WWW-Authenticate"); got != WWWAuthenticate {
		t.Errorf("401 WWW-Authenticate = %q, want %q", got, WWWAuthenticate)
	}
	custom := WWWAuthenticate + `, error="invalid_token"`
	if got := write(Unauthorized("no"), map[string]string{"WWW-Authenticate": custom}).Get("WWW-Authenticate"); got != custom {
		t.Errorf("401 WWW-Authenticate = %q, want the handler's %q", got, custom)
	}
	h := write(HeadersTooLarge(1), nil)
	if h.Get("Retry-After") != "" || h.Get("WWW-Authenticate") != "" {
		t.Errorf("431 with Retry-After %q, WWW-Authenticate %q", h.Get("Retry-After"), h.Get("WWW-Authenticate"))
	}
}
