package problem

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/modelhost/modelhost/sdk/plugin"
)

type hinted struct {
	base   error
	detail string
	retry  time.Duration
}

func (h hinted) Error() string             { return "internal: /secret/path exit status 1" }
func (h hinted) Unwrap() error             { return h.base }
func (h hinted) PublicDetail() string      { return h.detail }
func (h hinted) RetryAfter() time.Duration { return h.retry }

func TestHints(t *testing.T) {
	for _, tt := range []struct {
		name       string
		err        error
		status     int
		detail     string
		retryAfter string
	}{
		{"restarting", hinted{plugin.ErrUnavailable, "the model's plugin is restarting", 2500 * time.Millisecond},
			503, "the model's plugin is restarting", "3"},
		{"failed", fmt.Errorf("predict: %w", hinted{plugin.ErrUnavailable, "stopped until the server restarts", time.Minute}),
			503, "stopped until the server restarts", "60"},
		{"short retry is one second", hinted{plugin.ErrUnavailable, "", 10 * time.Millisecond},
			503, "the model's plugin process cannot be reached right now; try again shortly", "1"},
		{"response too large", hinted{plugin.ErrProtocol, "the model's answer is larger than 1024 bytes", 0},
			502, "the model's answer is larger than 1024 bytes", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := FromError(tt.err)
			if d.Status != tt.status || d.Detail != tt.detail {
				t.Errorf("FromError = %d %q, want %d %q", d.Status, d.Detail, tt.status, tt.detail)
			}
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/api/models/m/predict", nil), rec)
			if err := Write(c, d); err != nil {
				t.Fatal(err)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if body := rec.Body.String(); strings.Contains(body, "secret") || strings.Contains(body, "exit status") {
				t.Errorf("body leaks the error: %s", body)
			}
		})
	}
}
