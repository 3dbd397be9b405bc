// Package sdk is what a model author writes against to ship a model as a
// modelhost plugin.
//
// A model is a value that implements [MLModel]: it describes itself with an
// [Info], publishes JSON Schemas (draft 2020-12) for its input and output, and
// answers Predict with JSON. Most authors never implement MLModel by hand:
// they write a Go input type, a Go output type and a function, and let
// [NewModel] reflect the schemas and do the JSON work:
//
//	type Input struct {
//		X float64 `json:"x" jsonschema:"minimum=0,description=The measurement"`
//	}
//	type Output struct {
//		Y float64 `json:"y"`
//	}
//
//	model := sdk.NewModel(sdk.Info{
//		QualifiedName: "doubler",
//		DisplayName:   "Doubler",
//		Description:   "Doubles x.",
//		Version:       "1.0.0",
//	}, func(ctx context.Context, in Input) (Output, error) {
//		return Output{Y: 2 * in.X}, nil
//	})
//
// The package github.com/modelhost/modelhost/sdk/plugin turns such a model into
// a plugin binary with one call to plugin.Serve, and
// github.com/modelhost/modelhost/sdk/modeltest checks it from a unit test.
//
// Errors keep their meaning across the process boundary: return an error made
// by [InvalidInput] (or one wrapping [ErrInvalidInput]) when the input is
// unacceptable to the model, and the host answers 422; any other error, and a
// panic inside Predict, is an internal failure and the host answers 500.
package sdk
