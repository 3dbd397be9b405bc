package plugin

import (
	"context"
	"errors"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/modelhost/modelhost/sdk/internal/modelpb"
)

// grpcPlugin is the go-plugin GRPCPlugin for models. The plugin side sets
// server; the host side leaves it nil.
type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	server *server
}

var _ goplugin.GRPCPlugin = (*grpcPlugin)(nil)

// GRPCServer registers the model service on the plugin's gRPC server.
func (p *grpcPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	if p.server == nil {
		return errors.New("no model to serve")
	}
	modelpb.RegisterModelServiceServer(s, p.server)
	return nil
}

// GRPCClient returns the host's stub for the model service.
func (p *grpcPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return modelpb.NewModelServiceClient(conn), nil
}
