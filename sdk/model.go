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
