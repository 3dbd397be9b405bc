package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/status"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/internal/modelpb"
)

// SDKVersion is the version of this SDK, reported to the host on Describe.
const SDKVersion = "0.3.0"

// server is the plugin half of the protocol: it serves one sdk.MLModel.
type server struct {
	modelpb.UnimplementedModelServiceServer
	model    sdk.MLModel
	describe *modelpb.DescribeResponse
	logger   *slog.Logger
}

func newServer(model sdk.MLModel, logger *slog.Logger) *server {
	info := model.Info()
	return &server{
		model: model,
		describe: &modelpb.DescribeResponse{
			QualifiedName: info.QualifiedName,
			DisplayName:   info.DisplayName,
			Description:   info.Description,
			Version:       info.Version,
			InputSchema:   model.InputSchema(),
			OutputSchema:  model.OutputSchema(),
			SdkVersion:    SDKVersion,
			PredictStream: true,
		},
		logger: logger,
	}
}

// Describe implements modelpb.ModelServiceServer.
func (s *server) Describe(context.Context, *modelpb.DescribeRequest) (*modelpb.DescribeResponse, error) {
	return s.describe, nil
}

// Predict implements modelpb.ModelServiceServer. Errors of the model travel
// in the response; only a cancelled or expired call becomes a gRPC status.
func (s *server) Predict(ctx context.Context, req *modelpb.PredictRequest) (*modelpb.PredictResponse, error) {
	out, modelErr := s.predictOne(ctx, req.GetInput())
	if modelErr != nil && ctx.Err() != nil {
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return &modelpb.PredictResponse{Output: out, Error: modelErr}, nil
}

// PredictStream implements modelpb.ModelServiceServer: it serves the
// predictions the host sends on one stream, each in its own goroutine under
// its own context (canceled when the host sends a cancel for it, when its
// timeout passes, or when the stream ends), and sends each answer with its
// request's id as soon as it is ready; an output larger than the request's
// max_output_bytes is reported by its size instead. Errors of the model travel in the
// answer, as in Predict; an answer whose call was canceled is still sent,
// and the host ignores it.
func (s *server) PredictStream(stream modelpb.ModelService_PredictStreamServer) error {
	ctx := stream.Context()
	var (
		sendMu   sync.Mutex
		mu       sync.Mutex
		inFlight = map[uint64]context.CancelFunc{}
	)
	// Predictions run on workers that outlive them, so that the stack a
	// prediction grew is there for the next one (a new goroutine would
	// grow it again, a fifth of a plugin's CPU at concurrency 64); when
	// every worker is busy, a prediction gets a goroutine of its own.
	work := make(chan func())
	defer close(work)
	workers := 0
	run := func(f func()) {
		select {
		case work <- f:
			return
		default:
		}
		if workers < predictWorkers() {
			workers++
			go func() {
				f()
				for f := range work {
					f()
				}
			}()
			return
		}
		go f()
	}
	for {
		req, err := stream.Recv()
		if err != nil {
			// The host closed the stream, or it broke: the predictions
			// still running see their contexts canceled with ctx.
			return err
		}
		id := req.GetId()
		if req.GetCancel() {
			mu.Lock()
			cancel := inFlight[id]
			mu.Unlock()
			if cancel != nil {
				cancel()
			}
			continue
		}
		var (
			callCtx context.Context
			cancel  context.CancelFunc
		)
		if t := req.GetTimeoutNanos(); t > 0 {
			callCtx, cancel = context.WithTimeout(ctx, time.Duration(t))
		} else {
			callCtx, cancel = context.WithCancel(ctx)
		}
		mu.Lock()
		inFlight[id] = cancel
		mu.Unlock()
		input, maxOutput := req.GetInput(), req.GetMaxOutputBytes()
		run(func() {
			out, modelErr := s.predictOne(callCtx, input)
			timedOut := modelErr != nil && errors.Is(callCtx.Err(), context.DeadlineExceeded)
			mu.Lock()
			delete(inFlight, id)
			mu.Unlock()
			cancel()
			res := &modelpb.PredictStreamResponse{Id: id, Output: out, Error: modelErr, TimedOut: timedOut}
			if maxOutput > 0 && int64(len(out)) > maxOutput {
				// The host would refuse it: say so instead of sending it.
				s.logger.Warn("model output larger than the host accepts; not sent", "id", id, "bytes", len(out), "limit", maxOutput)
				res = &modelpb.PredictStreamResponse{Id: id, OversizedOutputBytes: int64(len(out))}
			}
			sendMu.Lock()
			err := stream.Send(res)
			sendMu.Unlock()
			if err != nil {
				s.logger.Debug("cannot send a prediction on the stream", "id", id, "error", err)
			}
		})
	}
}

// predictWorkers is the number of workers of a prediction stream: four per
// processor the Go runtime may use, so that a model that waits (on I/O, a
// lock) leaves workers for the others.
func predictWorkers() int {
	return 4 * runtime.GOMAXPROCS(0)
}

// PredictBatch implements modelpb.ModelServiceServer. A model that
// implements sdk.BatchPredictor gets all inputs in one call; any other is
// called once per input, in order.
func (s *server) PredictBatch(ctx context.Context, req *modelpb.PredictBatchRequest) (*modelpb.PredictBatchResponse, error) {
	inputs := req.GetInputs()
	if bp, ok := s.model.(sdk.BatchPredictor); ok {
		return s.predictBatch(ctx, bp, inputs)
	}
	res := &modelpb.PredictBatchResponse{Results: make([]*modelpb.PredictResponse, len(inputs))}
	for i, in := range inputs {
		if err := ctx.Err(); err != nil {
			return nil, status.FromContextError(err).Err()
		}
		out, modelErr := s.predictOne(ctx, in)
		res.Results[i] = &modelpb.PredictResponse{Output: out, Error: modelErr}
		if modelErr != nil && ctx.Err() != nil {
			// As in Predict: the item failed because the call ended.
			return nil, status.FromContextError(ctx.Err()).Err()
		}
	}
	return res, nil
}

// predictBatch answers PredictBatch with one call of the model's own
// PredictBatch.
func (s *server) predictBatch(ctx context.Context, bp sdk.BatchPredictor, inputs [][]byte) (*modelpb.PredictBatchResponse, error) {
	raw := make([]json.RawMessage, len(inputs))
	for i, in := range inputs {
		raw[i] = in
	}
	outs, errs := s.safePredictBatch(sdk.ContextWithLogger(ctx, s.logger), bp, raw)
	res := &modelpb.PredictBatchResponse{Results: make([]*modelpb.PredictResponse, len(inputs))}
	failed := false
	for i := range inputs {
		var err error
		if errs != nil {
			err = errs[i]
		}
		if err != nil {
			failed = true
			res.Results[i] = &modelpb.PredictResponse{Error: toProtoError(err)}
		} else {
			res.Results[i] = &modelpb.PredictResponse{Output: outs[i]}
		}
	}
	if failed && ctx.Err() != nil {
		// As in Predict: the items failed because the call ended.
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return res, nil
}

// safePredictBatch calls the model's PredictBatch, turning a panic, or
// results of the wrong length, into an internal error of every input.
func (s *server) safePredictBatch(ctx context.Context, bp sdk.BatchPredictor, inputs []json.RawMessage) (outs []json.RawMessage, errs []error) {
	failAll := func(err error) ([]json.RawMessage, []error) {
		errs := make([]error, len(inputs))
		for i := range errs {
			errs[i] = err
		}
		return make([]json.RawMessage, len(inputs)), errs
	}
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("predict batch panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			outs, errs = failAll(fmt.Errorf("model panicked: %v", r))
		}
	}()
	outs, errs = bp.PredictBatch(ctx, inputs)
	if len(outs) != len(inputs) || (errs != nil && len(errs) != len(inputs)) {
		s.logger.Error("predict batch returned results of the wrong length", "inputs", len(inputs), "outputs", len(outs), "errors", len(errs))
		return failAll(fmt.Errorf("model returned %d outputs and %d errors for %d inputs", len(outs), len(errs), len(inputs)))
	}
	return outs, errs
}

// predictOne calls the model with ctx carrying the plugin's logger, and
// returns its output, or its error as the protocol carries it.
func (s *server) predictOne(ctx context.Context, input []byte) (json.RawMessage, *modelpb.ModelError) {
	out, err := s.safePredict(sdk.ContextWithLogger(ctx, s.logger), input)
	if err != nil {
		return nil, toProtoError(err)
	}
	return out, nil
}

// safePredict calls the model, turning a panic into an internal error so
// that one bad input cannot take the plugin down.
func (s *server) safePredict(ctx context.Context, input []byte) (out json.RawMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("predict panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("model panicked: %v", r)
		}
	}()
	return s.model.Predict(ctx, input)
}

func toProtoError(err error) *modelpb.ModelError {
	var inputErr *sdk.InputError
	switch {
	case errors.As(err, &inputErr):
		pe := &modelpb.ModelError{Kind: modelpb.ModelError_KIND_INVALID_INPUT, Detail: inputErr.Detail}
		for _, f := range inputErr.Fields {
			pe.Fields = append(pe.Fields, &modelpb.FieldError{Pointer: f.Pointer, Detail: f.Detail})
		}
		return pe
	case errors.Is(err, sdk.ErrInvalidInput):
		// The host's side rebuilds an *sdk.InputError, whose message starts
		// with "invalid input" again: drop the prefix that
		// fmt.Errorf("%w: ...", sdk.ErrInvalidInput) puts there.
		detail := err.Error()
		if detail == sdk.ErrInvalidInput.Error() {
			detail = ""
		} else if d, ok := strings.CutPrefix(detail, sdk.ErrInvalidInput.Error()+": "); ok {
			detail = d
		}
		return &modelpb.ModelError{Kind: modelpb.ModelError_KIND_INVALID_INPUT, Detail: detail}
	default:
		return &modelpb.ModelError{Kind: modelpb.ModelError_KIND_INTERNAL, Detail: err.Error()}
	}
}
