package api

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelhost/modelhost/host/internal/problem"
)

// TestSlowBody checks that a body that does not arrive within the server's
// read timeout gets a 408 problem, not silence: net/http cancels the
// request's context when the read fails, which must not pass for a client
// that went away.
func TestSlowBody(t *testing.T) {
	e, log := testAPI(t)
	srv := httptest.NewUnstartedServer(e)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()

	for _, tt := range []struct {
		name       string
		closeWrite bool
		status     int
		typ        string
	}{
		{"client waits", false, http.StatusRequestTimeout, problem.TypeRequestTimeout},
		{"client half-closes", true, http.StatusBadRequest, problem.TypeMalformedJSON},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(conn, "POST /api/models/iris_model/predict HTTP/1.1\r\nHost: x\r\n"+
				"Content-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"sepal_length\": 5"); err != nil {
				t.Fatal(err)
			}
			if tt.closeWrite {
				_ = conn.(*net.TCPConn).CloseWrite()
			}
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status || res.Header.Get("Content-Type") != problem.ContentType || !strings.Contains(string(body), tt.typ) {
				t.Errorf("got %d %q %s, want %d %s", res.StatusCode, res.Header.Get("Content-Type"), body, tt.status, tt.typ)
			}
		})
	}
	if strings.Contains(log.String(), "client went away") {
		t.Errorf("a slow client was taken for one that went away:\n%s", log)
	}
}

func TestTwoContentTypes(t *testing.T) {
	e, _ := testAPI(t)
	req := httptest.NewRequest(http.MethodPost, "/api/models/iris_model/predict", strings.NewReader(irisInputJSON))
	req.Header.Add("Content-Type", "application/json")
	req.Header.Add("Content-Type", "text/plain")
	d := checkProblem(t, send(e, req), "/api/models/iris_model/predict", http.StatusUnsupportedMediaType, problem.TypeUnsupportedMediaType)
	if !strings.Contains(d.Detail, `"application/json, text/plain"`) {
		t.Errorf("detail %q does not quote both", d.Detail)
	}
}
