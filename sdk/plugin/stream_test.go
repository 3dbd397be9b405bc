package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/internal/modelpb"
)

// streamModel is a hand-written model for the stream's tests: it echoes
// its input, or, for {"wait":true}, blocks until its context ends and
// reports that on ended.
type streamModel struct {
	ended    chan error         // the context error of each waiting call
	deadline chan time.Duration // the time left of each call with a deadline
}

func newStreamModel() *streamModel {
	return &streamModel{ended: make(chan error, 100), deadline: make(chan time.Duration, 100)}
}

func (m *streamModel) Info() sdk.Info {
	return sdk.Info{QualifiedName: "stream_test", DisplayName: "Stream test", Description: "Echoes or waits.", Version: "1.0.0"}
}
func (m *streamModel) InputSchema() json.RawMessage  { return json.RawMessage(`{"type":"object"}`) }
func (m *streamModel) OutputSchema() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }
func (m *streamModel) Predict(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	if d, ok := ctx.Deadline(); ok {
		m.deadline <- time.Until(d)
	}
	if string(input) == `{"wait":true}` {
		<-ctx.Done()
		m.ended <- ctx.Err()
		return nil, ctx.Err()
	}
	return input, nil
}

// serveStream serves model over an in-memory gRPC connection as ServeTest
// does, and also returns the server, to stop it.
func serveStream(t *testing.T, model sdk.MLModel) (*RemoteModel, *grpc.Server) {
	t.Helper()
	remote, srv := serveService(t, newServer(model, newSlogLogger(hclog.NewNullLogger())))
	if remote.streams == nil {
		t.Fatal("the plugin does not say it serves PredictStream")
	}
	return remote, srv
}

// serveService serves svc as the model service over an in-memory gRPC
// connection and returns the host's view of it and the server.
func serveService(t *testing.T, svc modelpb.ModelServiceServer) (*RemoteModel, *grpc.Server) {
	t.Helper()
	return serveServiceWith(t, svc, nil)
}

// serveServiceWith is serveService with more dial options for the host's
// side, after GRPCDialOptions, and options for Connect.
func serveServiceWith(t *testing.T, svc modelpb.ModelServiceServer, dial []grpc.DialOption, opts ...ConnectOption) (*RemoteModel, *grpc.Server) {
	t.Helper()
	srv := grpc.NewServer(grpcServerOptions()...)
	modelpb.RegisterModelServiceServer(srv, svc)
	ln := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(ln) }()
	dial = append(append(GRPCDialOptions(), dial...),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
	)
	conn, err := grpc.NewClient("passthrough:///stream", dial...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
	})
	remote, err := Connect(context.Background(), testProtocol{conn: conn}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return remote, srv
}

func TestStreamConcurrentPredictions(t *testing.T) {
	remote, _ := serveStream(t, newStreamModel())
	const workers, each = 32, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				in := fmt.Sprintf(`{"worker":%d,"i":%d}`, w, i)
				out, err := remote.Predict(context.Background(), json.RawMessage(in))
				if err != nil || string(out) != in {
					t.Errorf("Predict(%s) = %s, %v; want the input back", in, out, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestStreamCancelReachesTheModel(t *testing.T) {
	model := newStreamModel()
	remote, _ := serveStream(t, model)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := remote.Predict(ctx, json.RawMessage(`{"wait":true}`))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // let it reach the model
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Predict = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Predict did not return after its context was canceled")
	}
	select {
	case err := <-model.ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the model's context ended with %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the model's context was not canceled")
	}
	// The stream still serves.
	if out, err := remote.Predict(context.Background(), json.RawMessage(`{"a":1}`)); err != nil || string(out) != `{"a":1}` {
		t.Errorf("after a cancel: Predict = %s, %v", out, err)
	}
}

func TestStreamDeadline(t *testing.T) {
	model := newStreamModel()
	remote, _ := serveStream(t, model)

	// The model sees the caller's deadline.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := remote.Predict(ctx, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	if left := <-model.deadline; left <= 50*time.Second || left > time.Minute {
		t.Errorf("the model's deadline is %v away, want about a minute", left)
	}

	// A prediction that outlives it fails as an expired call does, and
	// the model's context expires too.
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := remote.Predict(ctx, json.RawMessage(`{"wait":true}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Predict = %v, want context.DeadlineExceeded", err)
	}
	select {
	case err := <-model.ended:
		if err == nil {
			t.Error("the model's context ended without an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the model's context did not end")
	}
}

func TestStreamBreakFailsWaitingPredictions(t *testing.T) {
	remote, srv := serveStream(t, newStreamModel())
	done := make(chan error, 1)
	go func() {
		_, err := remote.Predict(context.Background(), json.RawMessage(`{"wait":true}`))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	srv.Stop() // the plugin goes away
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("Predict = %v, want ErrUnavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Predict did not return when the plugin went away")
	}
	if _, err := remote.Predict(context.Background(), json.RawMessage(`{}`)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Predict after the plugin went away = %v, want ErrUnavailable", err)
	}
}

func TestStreamLeavesLargeInputsAndOldPluginsToCalls(t *testing.T) {
	remote, _ := serveStream(t, newStreamModel())
	big := `{"text":"` + strings.Repeat("x", maxStreamInput) + `"}`
	if out, err := remote.Predict(context.Background(), json.RawMessage(big)); err != nil || string(out) != big {
		t.Errorf("Predict of %d bytes: %d bytes back, %v", len(big), len(out), err)
	}
	before := remote.streams.next.Load()
	remote.Predict(context.Background(), json.RawMessage(big))
	if remote.streams.next.Load() != before {
		t.Error("an input over maxStreamInput went on the stream")
	}

	// A host sees a plugin of an older SDK as one without streams.
	remote.streams = nil
	if out, err := remote.Predict(context.Background(), json.RawMessage(`{"b":2}`)); err != nil || string(out) != `{"b":2}` {
		t.Errorf("Predict without a stream = %s, %v", out, err)
	}
}

// noStreamServer says in Describe that it serves PredictStream, as every
// server of this SDK does, but answers it Unimplemented, as a server built
// without it would.
type noStreamServer struct{ *server }

func (noStreamServer) PredictStream(modelpb.ModelService_PredictStreamServer) error {
	return status.Error(codes.Unimplemented, "method PredictStream not implemented")
}

func TestStreamUnimplementedFallsBackToCalls(t *testing.T) {
	remote, _ := serveService(t, noStreamServer{newServer(newStreamModel(), newSlogLogger(hclog.NewNullLogger()))})
	for i := range 3 {
		in := fmt.Sprintf(`{"i":%d}`, i)
		if out, err := remote.Predict(context.Background(), json.RawMessage(in)); err != nil || string(out) != in {
			t.Fatalf("Predict(%s) = %s, %v; want the input back", in, out, err)
		}
	}
	if !remote.streams.off.Load() {
		t.Error("the stream is still in use after Unimplemented")
	}
}

// bigModel answers {"size":N} with a JSON string of N bytes and anything
// else as streamModel does.
type bigModel struct{ *streamModel }

func (m bigModel) Predict(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	var in struct{ Size *int }
	if json.Unmarshal(input, &in) == nil && in.Size != nil {
		return json.RawMessage(`"` + strings.Repeat("x", *in.Size-2) + `"`), nil
	}
	return m.streamModel.Predict(ctx, input)
}

// TestStreamOversizedOutputStaysInThePlugin: with WithMaxOutputBytes, an
// output over the limit is reported by its size, not sent, and the
// predictions waiting on the same stream are not disturbed; one at the
// limit is sent.
func TestStreamOversizedOutputStaysInThePlugin(t *testing.T) {
	const limit = 1 << 20
	// The host's receive limit, as the launcher sets it: an output of
	// 8 MiB would break the stream if it were sent.
	remote, _ := serveServiceWith(t, newServer(bigModel{newStreamModel()}, newSlogLogger(hclog.NewNullLogger())),
		[]grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(4 << 20))}, WithMaxOutputBytes(limit))

	// A prediction waiting on the stream while the large outputs pass.
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan error, 1)
	go func() {
		_, err := remote.Predict(ctx, json.RawMessage(`{"wait":true}`))
		waiting <- err
	}()

	for _, size := range []int{limit + 1, 8 << 20} {
		_, err := remote.Predict(context.Background(), json.RawMessage(fmt.Sprintf(`{"size":%d}`, size)))
		var ote *OutputTooLargeError
		if !errors.As(err, &ote) || ote.Size != int64(size) || ote.Limit != limit || !errors.Is(err, ErrProtocol) {
			t.Errorf("output of %d bytes: Predict = %v, want an *OutputTooLargeError of that size matching ErrProtocol", size, err)
		}
	}
	if out, err := remote.Predict(context.Background(), json.RawMessage(fmt.Sprintf(`{"size":%d}`, limit))); err != nil || len(out) != limit {
		t.Errorf("output of exactly the limit: %d bytes, %v", len(out), err)
	}
	select {
	case err := <-waiting:
		t.Fatalf("the waiting prediction ended with %v: the stream broke", err)
	default:
	}
	cancel()
	if err := <-waiting; !errors.Is(err, context.Canceled) {
		t.Errorf("the waiting prediction ended with %v, want context.Canceled", err)
	}
	if n := remote.streams.next.Load(); n != 4 {
		t.Errorf("%d predictions went on the stream, want all 4", n)
	}
}
