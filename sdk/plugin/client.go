package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/internal/modelpb"
)

var (
	// ErrUnavailable means the plugin process could not be reached: it has
	// exited, or its connection broke. The host answers 503.
	ErrUnavailable = errors.New("plugin unavailable")
	// ErrModelFailed means the model's code failed (returned an error that is
	// not an input error, or panicked). The host answers 500.
	ErrModelFailed = errors.New("model failed")
	// ErrProtocol means the plugin answered something the protocol does not
	// allow.
	ErrProtocol = errors.New("plugin protocol violation")
)

// OutputTooLargeError is a prediction whose output the plugin did not send
// because it was larger than the limit the host set with
// WithMaxOutputBytes. It matches ErrProtocol.
type OutputTooLargeError struct {
	Limit int64 // the limit the host set
	Size  int64 // the output's size, as the plugin reported it
}

func (e *OutputTooLargeError) Error() string {
	return fmt.Sprintf("model output of %d bytes is larger than the %d bytes asked for; the plugin did not send it", e.Size, e.Limit)
}

func (e *OutputTooLargeError) Unwrap() error { return ErrProtocol }

// RemoteModel is a model served by a plugin process, seen from the host. It
// implements sdk.MLModel; its metadata was fetched once by Connect.
type RemoteModel struct {
	rpc          modelpb.ModelServiceClient
	info         sdk.Info
	inputSchema  json.RawMessage
	outputSchema json.RawMessage
	sdkVersion   string
	// streams carries the predictions when the plugin serves
	// PredictStream; nil for plugins of older SDKs.
	streams *predictStreams
}

var _ sdk.MLModel = (*RemoteModel)(nil)

// ConnectOption configures the RemoteModel that Connect returns.
type ConnectOption func(*connectOptions)

type connectOptions struct {
	maxOutput int64
}

// WithMaxOutputBytes tells the plugin, with each prediction on its
// prediction stream, that the host accepts outputs of at most n bytes. A
// plugin of this SDK then answers a larger output with an
// *OutputTooLargeError instead of sending it: the host is spared the
// transfer, and an output beyond the host's gRPC receive limit cannot break
// the stream for the other predictions on it. The host must still check
// the size of what it receives: plugins of older SDKs, and predictions in
// calls of their own, send whatever the model returned.
func WithMaxOutputBytes(n int64) ConnectOption {
	return func(o *connectOptions) { o.maxOutput = n }
}

// Connect dispenses the model from a started go-plugin client and fetches
// its metadata. It fails when the plugin does not serve the model protocol or
// its metadata is invalid.
func Connect(ctx context.Context, protocol goplugin.ClientProtocol, opts ...ConnectOption) (*RemoteModel, error) {
	var o connectOptions
	for _, opt := range opts {
		opt(&o)
	}
	raw, err := protocol.Dispense(pluginName)
	if err != nil {
		return nil, fmt.Errorf("dispense model: %w", err)
	}
	rpc, ok := raw.(modelpb.ModelServiceClient)
	if !ok {
		return nil, fmt.Errorf("%w: dispensed %T, want a model service client", ErrProtocol, raw)
	}
	desc, err := rpc.Describe(ctx, &modelpb.DescribeRequest{})
	if err != nil {
		return nil, fmt.Errorf("describe: %w", fromStatus(ctx, err))
	}
	m := &RemoteModel{
		rpc: rpc,
		info: sdk.Info{
			QualifiedName: desc.GetQualifiedName(),
			DisplayName:   desc.GetDisplayName(),
			Description:   desc.GetDescription(),
			Version:       desc.GetVersion(),
		},
		inputSchema:  desc.GetInputSchema(),
		outputSchema: desc.GetOutputSchema(),
		sdkVersion:   desc.GetSdkVersion(),
	}
	if desc.GetPredictStream() {
		m.streams = &predictStreams{rpc: rpc, maxOutput: o.maxOutput}
	}
	if err := m.info.Validate(); err != nil {
		return nil, err
	}
	for name, s := range map[string][]byte{"input": m.inputSchema, "output": m.outputSchema} {
		if !json.Valid(s) {
			return nil, fmt.Errorf("%w: %s schema is not valid JSON", ErrProtocol, name)
		}
	}
	return m, nil
}

// Info implements sdk.MLModel.
func (m *RemoteModel) Info() sdk.Info { return m.info }

// InputSchema implements sdk.MLModel.
func (m *RemoteModel) InputSchema() json.RawMessage { return m.inputSchema }

// OutputSchema implements sdk.MLModel.
func (m *RemoteModel) OutputSchema() json.RawMessage { return m.outputSchema }

// SDKVersion returns the SDK version the plugin was built with.
func (m *RemoteModel) SDKVersion() string { return m.sdkVersion }

// Predict implements sdk.MLModel by calling the plugin. ctx's deadline
// becomes the prediction's deadline in the plugin, and canceling ctx
// cancels it there. Errors match sdk.ErrInvalidInput (as an
// *sdk.InputError), ErrModelFailed, ErrUnavailable, ErrProtocol,
// context.DeadlineExceeded or context.Canceled.
//
// The prediction travels on the plugin's prediction stream when the plugin
// serves one (SDK 0.2.0 and later) and the input is at most 64 KiB, else in
// a Predict call of its own.
func (m *RemoteModel) Predict(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	if m.streams != nil && !m.streams.off.Load() && len(input) <= maxStreamInput {
		out, err := m.streams.predict(ctx, input)
		if !errors.Is(err, errNoStream) {
			return out, err
		}
	}
	return m.PredictUnary(ctx, input)
}

// PredictUnary is Predict in a gRPC call of its own, never on the
// prediction stream: the protocol's first form, which plugins of every SDK
// serve. The benchmark measures the bare round trip with it.
func (m *RemoteModel) PredictUnary(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	res, err := m.rpc.Predict(ctx, &modelpb.PredictRequest{Input: input})
	if err != nil {
		return nil, fromStatus(ctx, err)
	}
	return fromProtoResult(res)
}

// PredictBatch calls the plugin once for all inputs. It returns one output
// or one error per input, in order; err is set only when the call as a whole
// failed.
func (m *RemoteModel) PredictBatch(ctx context.Context, inputs []json.RawMessage) (outputs []json.RawMessage, errs []error, err error) {
	req := &modelpb.PredictBatchRequest{Inputs: make([][]byte, len(inputs))}
	for i, in := range inputs {
		req.Inputs[i] = in
	}
	res, err := m.rpc.PredictBatch(ctx, req)
	if err != nil {
		return nil, nil, fromStatus(ctx, err)
	}
	if len(res.GetResults()) != len(inputs) {
		return nil, nil, fmt.Errorf("%w: %d results for %d inputs", ErrProtocol, len(res.GetResults()), len(inputs))
	}
	outputs = make([]json.RawMessage, len(inputs))
	errs = make([]error, len(inputs))
	for i, r := range res.GetResults() {
		outputs[i], errs[i] = fromProtoResult(r)
	}
	return outputs, errs, nil
}

func fromProtoResult(res *modelpb.PredictResponse) (json.RawMessage, error) {
	if e := res.GetError(); e != nil {
		return nil, fromProtoError(e)
	}
	return res.GetOutput(), nil
}

func fromProtoError(e *modelpb.ModelError) error {
	switch e.GetKind() {
	case modelpb.ModelError_KIND_INVALID_INPUT:
		ie := &sdk.InputError{Detail: e.GetDetail()}
		for _, f := range e.GetFields() {
			ie.Fields = append(ie.Fields, sdk.FieldError{Pointer: f.GetPointer(), Detail: f.GetDetail()})
		}
		return ie
	default:
		return fmt.Errorf("%w: %s", ErrModelFailed, e.GetDetail())
	}
}

// fromStatus turns a gRPC transport error of a call made with ctx into an
// error of this package or of package context.
func fromStatus(ctx context.Context, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		return fmt.Errorf("plugin call: %w", context.DeadlineExceeded)
	case codes.Canceled:
		if ctx.Err() == nil {
			// Not our cancellation: go-plugin closed the connection because
			// the plugin process exited.
			return fmt.Errorf("%w: %s", ErrUnavailable, st.Message())
		}
		return fmt.Errorf("plugin call: %w", context.Canceled)
	case codes.Unavailable:
		return fmt.Errorf("%w: %s", ErrUnavailable, st.Message())
	case codes.ResourceExhausted:
		return fmt.Errorf("%w: %s", ErrProtocol, st.Message())
	default:
		return fmt.Errorf("plugin call failed with %s: %s", st.Code(), st.Message())
	}
}
