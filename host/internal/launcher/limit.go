package launcher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc"

	"github.com/modelhost/modelhost/sdk/plugin"
)

// minRecvBytes is the smallest gRPC receive limit set, gRPC's default: it
// leaves room for Describe's schemas when max_response_bytes is small.
// Answers between max_response_bytes and this are received, then refused.
const minRecvBytes = 4 << 20

// responseLimit returns the dial option that makes gRPC refuse, without
// reading it whole, a message from the plugin larger than about limit
// bytes. It comes after plugin.GRPCDialOptions, whose limit it overrides.
func responseLimit(limit int64) grpc.DialOption {
	// The output travels in a protobuf message: a few bytes of framing.
	n := max(limit+1024, minRecvBytes)
	return grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(int(min(n, plugin.MaxMessageBytes))))
}

// limitedModel is a plugin's model whose answers are refused beyond limit
// bytes.
type limitedModel struct {
	*plugin.RemoteModel
	limit int64
}

// Predict calls the plugin and refuses an answer larger than the limit
// with a *ResponseTooLargeError.
func (m *limitedModel) Predict(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	out, err := m.RemoteModel.Predict(ctx, input)
	if err != nil {
		// The plugin kept the output to itself (on the prediction
		// stream, SDK 0.3.0 and later).
		var ote *plugin.OutputTooLargeError
		if errors.As(err, &ote) {
			return nil, &ResponseTooLargeError{Limit: m.limit, Size: ote.Size}
		}
		// gRPC's ResourceExhausted, which package plugin reports as a
		// protocol error with gRPC's message.
		if errors.Is(err, plugin.ErrProtocol) && strings.Contains(err.Error(), "larger than max") {
			return nil, &ResponseTooLargeError{Limit: m.limit, Err: err}
		}
		return nil, err
	}
	if int64(len(out)) > m.limit {
		return nil, &ResponseTooLargeError{Limit: m.limit, Size: int64(len(out))}
	}
	return out, nil
}

// PredictBatch calls the plugin once for all inputs. The whole answer is
// subject to gRPC's receive limit (at least the limit); each output larger
// than the limit is refused with a *ResponseTooLargeError of its own.
func (m *limitedModel) PredictBatch(ctx context.Context, inputs []json.RawMessage) ([]json.RawMessage, []error, error) {
	outs, errs, err := m.RemoteModel.PredictBatch(ctx, inputs)
	if err != nil {
		if errors.Is(err, plugin.ErrProtocol) && strings.Contains(err.Error(), "larger than max") {
			return nil, nil, &ResponseTooLargeError{Limit: m.limit, Err: err}
		}
		return nil, nil, err
	}
	for i, out := range outs {
		if errs[i] == nil && int64(len(out)) > m.limit {
			outs[i], errs[i] = nil, &ResponseTooLargeError{Limit: m.limit, Size: int64(len(out))}
		}
	}
	return outs, errs, nil
}

// ResponseTooLargeError is an answer of a plugin larger than
// plugins.max_response_bytes. It matches plugin.ErrProtocol: the host
// answers 502.
type ResponseTooLargeError struct {
	Limit int64
	Size  int64 // 0 when gRPC refused the message unread
	Err   error // gRPC's error, if it refused the message
}

func (e *ResponseTooLargeError) Error() string {
	msg := fmt.Sprintf("model answer larger than %d bytes (plugins.max_response_bytes)", e.Limit)
	if e.Size > 0 {
		msg += fmt.Sprintf(": %d bytes", e.Size)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *ResponseTooLargeError) Unwrap() error { return plugin.ErrProtocol }

// PublicDetail is what a client may be told.
func (e *ResponseTooLargeError) PublicDetail() string {
	return fmt.Sprintf("the model's answer is larger than %d bytes, the most this server accepts from a model", e.Limit)
}
