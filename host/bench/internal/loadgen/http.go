package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"
)

// HTTPRequest is the request an HTTP worker sends again and again.
type HTTPRequest struct {
	// Addr is the server's host:port.
	Addr string
	// Method defaults to POST.
	Method string
	// Path is the request target, such as /api/models/iris_model/predict.
	Path string
	// ContentType is sent when Body is not empty; default application/json.
	ContentType string
	Body        []byte
	// Status is the status every answer must have; default 200.
	Status int
	// Expect, if not nil, is the exact body every answer must have.
	Expect []byte
	// Timeout bounds one request, connecting included; default 10s.
	Timeout time.Duration
}

// raw returns the request serialised as HTTP/1.1, ready to write.
func (r HTTPRequest) raw() []byte {
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: modelhost-bench\r\nAccept: application/json\r\n", method, r.Path, r.Addr)
	if len(r.Body) > 0 || method == http.MethodPost {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Length: %d\r\n", ct, len(r.Body))
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return b.Bytes()
}

// HTTPWorker is a Worker that sends one HTTPRequest per Do over its own
// keep-alive connection, and checks the answer's status and, if asked, its
// body. A connection that breaks or that the server closes is replaced on
// the next Do.
type HTTPWorker struct {
	req     HTTPRequest
	raw     []byte
	status  int
	timeout time.Duration
	conn    net.Conn
	br      *bufio.Reader
	body    bytes.Buffer
}

var _ Worker = (*HTTPWorker)(nil)

// NewHTTPWorker returns a worker for req, already connected, so that
// connecting is not part of the first request's latency.
func NewHTTPWorker(req HTTPRequest) (*HTTPWorker, error) {
	w := &HTTPWorker{req: req, raw: req.raw(), status: req.Status, timeout: req.Timeout}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.timeout <= 0 {
		w.timeout = 10 * time.Second
	}
	if err := w.connect(context.Background()); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *HTTPWorker) connect(ctx context.Context) error {
	d := net.Dialer{Timeout: w.timeout}
	conn, err := d.DialContext(ctx, "tcp", w.req.Addr)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	w.conn = conn
	if w.br == nil {
		w.br = bufio.NewReaderSize(conn, 16<<10)
	} else {
		w.br.Reset(conn)
	}
	return nil
}

func (w *HTTPWorker) drop() {
	if w.conn != nil {
		_ = w.conn.Close()
		w.conn = nil
	}
}

// Do implements Worker.
func (w *HTTPWorker) Do(ctx context.Context) error {
	if w.conn == nil {
		if err := w.connect(ctx); err != nil {
			return classify(err)
		}
	}
	_ = w.conn.SetDeadline(time.Now().Add(w.timeout))
	if _, err := w.conn.Write(w.raw); err != nil {
		w.drop()
		return classify(fmt.Errorf("write: %w", err))
	}
	res, err := http.ReadResponse(w.br, nil)
	if err != nil {
		w.drop()
		return classify(fmt.Errorf("read: %w", err))
	}
	w.body.Reset()
	_, err = w.body.ReadFrom(res.Body)
	_ = res.Body.Close()
	if err != nil {
		w.drop()
		return classify(fmt.Errorf("read body: %w", err))
	}
	if res.Close {
		w.drop()
	}
	if res.StatusCode != w.status {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	if w.req.Expect != nil && !bytes.Equal(w.body.Bytes(), w.req.Expect) {
		return errors.New("unexpected body")
	}
	return nil
}

// LastBody returns the body of the last answer; it is valid until the next
// Do.
func (w *HTTPWorker) LastBody() []byte { return w.body.Bytes() }

// Close implements Worker.
func (w *HTTPWorker) Close() error {
	w.drop()
	return nil
}

// classify shortens transport errors to a kind that does not name the
// connection's ports, so that equal failures count as one kind.
func classify(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("connection closed by the server")
	case errors.Is(err, syscall.ECONNRESET):
		return errors.New("connection reset")
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("connection refused")
	case errors.Is(err, syscall.EPIPE):
		return errors.New("broken pipe")
	case errors.As(err, &ne) && ne.Timeout():
		return errors.New("timeout")
	}
	return err
}

// Once sends req once over a fresh connection and returns the answer's
// status and body; it is for checks before a round, not for load.
func Once(ctx context.Context, req HTTPRequest) (int, []byte, error) {
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	hr, err := http.NewRequestWithContext(ctx, method, "http://"+req.Addr+req.Path, bytes.NewReader(req.Body))
	if err != nil {
		return 0, nil, err
	}
	if len(req.Body) > 0 || method == http.MethodPost {
		ct := req.ContentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Do(hr)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}
