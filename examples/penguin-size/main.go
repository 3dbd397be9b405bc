// Command penguin-size is an example modelhost plugin: it estimates a
// penguin's body mass from the length of its flipper with a straight line.
//
// The line is an ordinary least-squares fit to the 342 penguins with both
// measurements in the Palmer Penguins data (Gorman, Williams and Fraser,
// 2014, as packaged in the palmerpenguins R package):
//
//	body mass (g) = -5780.83 + 49.686 × flipper length (mm)
//
// It explains about 76% of the variance in body mass (R² = 0.759), and its
// estimates are typically off by about 400 g (residual standard error
// 394 g). It is an example of how to write a plugin, not a model to rely on.
//
// Build it into the host's plugin directory and start the host:
//
//	go build -o ../../bin/plugins/penguin-size .
//	./penguin-size --describe
package main

import (
	"context"
	"fmt"
	"math"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// Input is what the model reads. The json tag names each field in the JSON
// document; the jsonschema tag adds a description, bounds and an example to
// the input schema that the host publishes and validates requests against.
type Input struct {
	FlipperLengthMM float64 `json:"flipper_length_mm" jsonschema:"title=Flipper length,description=Length of the flipper in millimetres. The fit saw 172 to 231 mm.,minimum=150,maximum=250,example=200"`
}

// Output is what the model answers.
type Output struct {
	BodyMassG float64 `json:"body_mass_g" jsonschema:"title=Body mass,description=Estimated body mass in grams rounded to the nearest gram. Expect an error of about 400 g."`
	// Extrapolated is true when the flipper length is outside the range
	// the line was fitted on, where the estimate deserves less trust.
	Extrapolated bool `json:"extrapolated" jsonschema:"description=True when the flipper length is outside the 172 to 231 mm the line was fitted on."`
}

// The fitted line and the data it was fitted on.
const (
	intercept  = -5780.83 // grams
	slope      = 49.686   // grams per millimetre
	minFlipper = 172.0    // shortest flipper in the data, mm
	maxFlipper = 231.0    // longest flipper in the data, mm
)

// predict is the model: a plain Go function from Input to Output.
func predict(ctx context.Context, in Input) (Output, error) {
	// The host checks the input against the schema before calling Predict,
	// but the function can be called without the host (in tests, say), so
	// it checks what it relies on. An sdk.InvalidInput error becomes an
	// HTTP 422 answer that points at the field.
	if in.FlipperLengthMM < 150 || in.FlipperLengthMM > 250 {
		return Output{}, sdk.InvalidInput("flipper length out of range", sdk.FieldError{
			Pointer: "/flipper_length_mm",
			Detail:  fmt.Sprintf("got %g mm, want 150 to 250 mm", in.FlipperLengthMM),
		})
	}
	mass := math.Round(intercept + slope*in.FlipperLengthMM)
	extrapolated := in.FlipperLengthMM < minFlipper || in.FlipperLengthMM > maxFlipper
	// Log with sdk.Logger, never to standard output: the host reads the
	// plugin's standard output for its own protocol.
	sdk.Logger(ctx).Debug("estimated body mass", "flipper_length_mm", in.FlipperLengthMM, "body_mass_g", mass, "extrapolated", extrapolated)
	return Output{BodyMassG: mass, Extrapolated: extrapolated}, nil
}

// newModel wraps predict with the model's metadata and example inputs.
func newModel() *sdk.Model[Input, Output] {
	info := sdk.Info{
		QualifiedName: "penguin_size",
		DisplayName:   "Penguin body mass from flipper length",
		Description: "Estimates a penguin's body mass in grams from its flipper length in millimetres with a straight line " +
			"(body mass = -5780.83 + 49.686 × flipper length), an ordinary least-squares fit to the 342 penguins of the " +
			"Palmer Penguins data (Adélie, Chinstrap and Gentoo; R² 0.76, typical error about 400 g). An example plugin, not a validated model.",
		Version: "1.0.0",
	}
	return sdk.NewModel(info, predict, sdk.WithExamples(
		Input{FlipperLengthMM: 190}, // a typical Adélie penguin
		Input{FlipperLengthMM: 217}, // a typical Gentoo penguin
	))
}

func main() {
	plugin.Serve(newModel())
}
