package plugin

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/modelhost/modelhost/sdk"
)

// ServeTest serves model over a real gRPC connection inside the test's
// process, the way a plugin binary would serve it to the host, and returns
// the host's view of it. Server and client use the same message-size limits
// as a real plugin and host ([MaxMessageBytes]), over an in-memory
// connection. The connection closes when the test ends. With go test -v, the
// model's log lines appear in the test's log.
func ServeTest(t testing.TB, model sdk.MLModel) *RemoteModel {
	t.Helper()
	logs := &testWriter{t: t}
	hl := hclog.NewNullLogger()
	if testing.Verbose() {
		hl = hclog.New(&hclog.LoggerOptions{Name: model.Info().QualifiedName, Level: hclog.Debug, Output: logs})
	}

	srv := grpc.NewServer(grpcServerOptions()...)
	p := &grpcPlugin{server: newServer(model, newSlogLogger(hl))}
	if err := p.GRPCServer(nil, srv); err != nil {
		t.Fatalf("register the model service: %v", err)
	}
	ln := bufconn.Listen(1 << 20)
	go func() { _ = srv.Serve(ln) }()

	opts := append(GRPCDialOptions(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return ln.DialContext(ctx)
		}),
	)
	conn, err := grpc.NewClient("passthrough:///modeltest", opts...)
	if err != nil {
		srv.Stop()
		t.Fatalf("connect to the model over gRPC: %v", err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		logs.close()
	})
	remote, err := Connect(context.Background(), testProtocol{conn: conn})
	if err != nil {
		t.Fatalf("connect to the model over gRPC: %v", err)
	}
	return remote
}

// testProtocol is the goplugin.ClientProtocol of an in-process connection:
// it dispenses plugins from PluginSet, as go-plugin's client does.
type testProtocol struct{ conn *grpc.ClientConn }

var _ goplugin.ClientProtocol = testProtocol{}

func (p testProtocol) Dispense(name string) (any, error) {
	raw, ok := PluginSet()[name]
	if !ok {
		return nil, fmt.Errorf("unknown plugin type: %s", name)
	}
	gp, ok := raw.(goplugin.GRPCPlugin)
	if !ok {
		return nil, fmt.Errorf("plugin %s does not support gRPC", name)
	}
	return gp.GRPCClient(context.Background(), nil, p.conn)
}

func (testProtocol) Ping() error { return nil }

func (p testProtocol) Close() error { return p.conn.Close() }

// testWriter writes to the test's log until the test ends, and discards
// afterwards: a model still running then must not make t.Log panic.
type testWriter struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(string(p))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
