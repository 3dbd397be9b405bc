package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentileNearestRank(t *testing.T) {
	// 1..1000 ms: the p-th percentile is p*10 ms exactly.
	var d []time.Duration
	for i := 1000; i >= 1; i-- { // unsorted on purpose: Summarize sorts
		d = append(d, ms(i))
	}
	s := Summarize(d)
	want := Summary{Count: 1000, Min: ms(1), Mean: 500500 * time.Microsecond, P50: ms(500), P90: ms(900), P99: ms(990), P999: ms(999), Max: ms(1000)}
	if s != want {
		t.Errorf("Summarize(1..1000 ms):\ngot  %+v\nwant %+v", s, want)
	}

	tests := []struct {
		n    int
		p    float64
		want time.Duration // as an index + 1 into 1..n ms
	}{
		{1, 50, ms(1)},
		{1, 99.9, ms(1)},
		{2, 50, ms(1)},
		{2, 50.1, ms(2)},
		{3, 50, ms(2)},
		{10, 99, ms(10)},
		{10, 90, ms(9)},
		{100, 99.9, ms(100)},
		{100, 99, ms(99)},
		{1001, 50, ms(501)},
		{1001, 99.9, ms(1000)},
		{2000, 99.9, ms(1998)},
		{5, 100, ms(5)},
		{5, 0.0001, ms(1)},
	}
	for _, tt := range tests {
		var d []time.Duration
		for i := 1; i <= tt.n; i++ {
			d = append(d, ms(i))
		}
		if got := Percentile(d, tt.p); got != tt.want {
			t.Errorf("Percentile(1..%d ms, %v) = %v, want %v", tt.n, tt.p, got, tt.want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("Percentile(nil) = %v, want 0", got)
	}
	if got := Summarize(nil); got != (Summary{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", got)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{9, 9, 1, 1, 5}, 5},
	}
	for _, tt := range tests {
		in := append([]float64(nil), tt.xs...)
		if got := Median(tt.xs); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
		for i := range in {
			if in[i] != tt.xs[i] {
				t.Fatalf("Median modified its argument: %v, was %v", tt.xs, in)
			}
		}
	}
	if got := MedianDuration([]time.Duration{ms(3), ms(1), ms(2), ms(10)}); got != 2500*time.Microsecond {
		t.Errorf("MedianDuration = %v, want 2.5ms", got)
	}
}

// countingWorker fails every third request.
type countingWorker struct {
	n      *atomic.Int64
	closed *atomic.Int64
}

func (w countingWorker) Do(context.Context) error {
	if w.n.Add(1)%3 == 0 {
		return errors.New("every third")
	}
	return nil
}

func (w countingWorker) Close() error { w.closed.Add(1); return nil }

func TestRunRequestCount(t *testing.T) {
	var n, closed atomic.Int64
	res, err := Run(context.Background(), Config{Concurrency: 4, Requests: 300}, func(int) (Worker, error) {
		return countingWorker{&n, &closed}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 200 || res.Errors != 100 || res.ErrorKinds["every third"] != 100 {
		t.Errorf("Run(300 requests, every third failing): got ok=%d errors=%d kinds=%v, want 200, 100, {every third:100}", res.OK, res.Errors, res.ErrorKinds)
	}
	if res.Latency.Count != 200 || res.Throughput <= 0 || res.Elapsed <= 0 {
		t.Errorf("Run: got latency count %d, throughput %v, elapsed %v; want 200, > 0, > 0", res.Latency.Count, res.Throughput, res.Elapsed)
	}
	if closed.Load() != 4 {
		t.Errorf("workers closed: got %d, want 4", closed.Load())
	}
}

func TestRunDuration(t *testing.T) {
	var n, closed atomic.Int64
	begin := time.Now()
	res, err := Run(context.Background(), Config{Concurrency: 2, Duration: 50 * time.Millisecond}, func(int) (Worker, error) {
		return countingWorker{&n, &closed}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took < 50*time.Millisecond || took > 5*time.Second {
		t.Errorf("Run(50ms) took %v", took)
	}
	if res.OK == 0 || int64(res.OK+res.Errors) != n.Load() {
		t.Errorf("Run(50ms): ok=%d errors=%d, requests made %d", res.OK, res.Errors, n.Load())
	}
}

func TestRunBadConfig(t *testing.T) {
	mk := func(int) (Worker, error) { return nil, errors.New("unused") }
	if _, err := Run(context.Background(), Config{Concurrency: 0, Requests: 1}, mk); err == nil {
		t.Error("Run(concurrency 0): got no error")
	}
	if _, err := Run(context.Background(), Config{Concurrency: 1}, mk); err == nil {
		t.Error("Run(no duration, no count): got no error")
	}
	if _, err := Run(context.Background(), Config{Concurrency: 1, Requests: 1}, mk); err == nil {
		t.Error("Run(worker fails to start): got no error")
	}
}

func TestHTTPWorker(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/echo" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request line", http.StatusBadRequest)
			return
		}
		if string(b) == `"close"` {
			w.Header().Set("Connection", "close")
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	req := HTTPRequest{Addr: addr, Path: "/echo", Body: []byte(`{"a":1}`), Expect: []byte(`{"a":1}`)}
	res, err := Run(context.Background(), Config{Concurrency: 3, Requests: 60}, func(int) (Worker, error) {
		return NewHTTPWorker(req)
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 60 || res.Errors != 0 {
		t.Errorf("Run: ok=%d errors=%d %v, want 60, 0", res.OK, res.Errors, res.ErrorKinds)
	}
	if got := conns.Load(); got != 3 {
		t.Errorf("connections: got %d, want 3 (one per worker, kept alive)", got)
	}

	// A wrong body, a wrong status, and a server that closes the
	// connection after each answer.
	w, err := NewHTTPWorker(HTTPRequest{Addr: addr, Path: "/echo", Body: []byte(`{"a":1}`), Expect: []byte(`{"a":2}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Do(context.Background()); err == nil || err.Error() != "unexpected body" {
		t.Errorf("Do(wrong body): got %v, want unexpected body", err)
	}
	w.Close()
	w, err = NewHTTPWorker(HTTPRequest{Addr: addr, Path: "/nope", Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Do(context.Background()); err == nil || err.Error() != "status 400" {
		t.Errorf("Do(wrong path): got %v, want status 400", err)
	}
	w.Close()
	before := conns.Load()
	w, err = NewHTTPWorker(HTTPRequest{Addr: addr, Path: "/echo", Body: []byte(`"close"`)})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := w.Do(context.Background()); err != nil {
			t.Fatalf("Do(server closes): %v", err)
		}
	}
	w.Close()
	if got := conns.Load() - before; got != 3 {
		t.Errorf("connections with Connection: close: got %d, want 3", got)
	}

	status, body, err := Once(context.Background(), HTTPRequest{Addr: addr, Path: "/echo", Body: []byte(`[1]`)})
	if err != nil || status != 200 || string(body) != "[1]" {
		t.Errorf("Once = %d, %s, %v; want 200, [1], nil", status, body, err)
	}
}
