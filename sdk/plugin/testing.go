package plugin

import (
	"context"
	"io"
	"testing"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/modelhost/modelhost/sdk"
)

// ServeTest serves model over a real gRPC connection inside the test's
// process, the way a plugin binary would serve it to the host, and returns
// the host's view of it. The connection closes when the test ends.
func ServeTest(t testing.TB, model sdk.MLModel) *RemoteModel {
	t.Helper()
	hl := hclog.New(&hclog.LoggerOptions{Output: io.Discard})
	if testing.Verbose() {
		hl = hclog.New(&hclog.LoggerOptions{Name: model.Info().QualifiedName, Level: hclog.Debug, Output: testWriter{t}})
	}
	ps := goplugin.PluginSet{pluginName: &grpcPlugin{server: newServer(model, newSlogLogger(hl))}}
	client, server := goplugin.TestPluginGRPCConn(t, false, ps)
	t.Cleanup(func() {
		client.Close()
		server.Stop()
	})
	remote, err := Connect(context.Background(), client)
	if err != nil {
		t.Fatalf("connect to the model over gRPC: %v", err)
	}
	return remote
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
