package sdk

import (
	"context"
	"encoding/json"
)

// MLModel is a model the host can serve. Implementations must be safe for
// concurrent use: the host calls Predict from many requests at once.
//
// Most models are written with [NewModel], which implements MLModel from Go
// types; implement it directly only to take full control of the JSON.
type MLModel interface {
	// Info returns the model's metadata. It is read once, when the plugin
	// starts.
	Info() Info
	// InputSchema returns the JSON Schema (draft 2020-12) that every input
	// satisfies. The host validates requests against it before calling Predict.
	InputSchema() json.RawMessage
	// OutputSchema returns the JSON Schema (draft 2020-12) of Predict's output.
	OutputSchema() json.RawMessage
	// Predict computes the output for one input, both JSON documents.
	// It returns an error matching ErrInvalidInput when the input is not
	// acceptable, and any other error for a failure of the model itself.
	Predict(ctx context.Context, input json.RawMessage) (json.RawMessage, error)
}

// BatchPredictor is an optional interface of an [MLModel] that computes
// many predictions at once, for example in one pass of a vectorised model.
// When the model that a plugin serves implements it, a batch prediction
// (POST /api/models/{name}/predict/batch) makes one PredictBatch call with
// the inputs that passed the host's schema validation; otherwise the plugin
// calls Predict once per input, in order. Models built by [NewModel]
// implement it; [WithBatch] gives them a function of their own for it.
type BatchPredictor interface {
	// PredictBatch computes the output of each input. It returns one
	// output per input, in the order of inputs, and either nil errs (every
	// prediction succeeded) or one error per input, nil where that
	// prediction succeeded; an output whose error is not nil is ignored.
	// Errors mean what they mean for Predict: ErrInvalidInput rejects that
	// input, any other error is a failure of the model. Results of another
	// length are a failure of every prediction of the batch.
	PredictBatch(ctx context.Context, inputs []json.RawMessage) (outputs []json.RawMessage, errs []error)
}
