// Package irismodel is the iris species classifier as an SDK model: its
// input and output types, its embedded trained parameters and its
// constructor New. The plugin binary (package main one directory up) serves
// it; other programs, such as the benchmark's in-process baseline
// (host/bench), call it directly.
package irismodel

import (
	"context"
	_ "embed"
	"fmt"
	"math"
	"slices"

	"github.com/modelhost/modelhost/plugins/iris/internal/classifier"
	"github.com/modelhost/modelhost/sdk"
)

// paramsJSON holds the trained parameters written by
// "go run ./plugins/iris/train" (plugins/iris/irismodel/params.json).
//
//go:embed params.json
var paramsJSON []byte

// Input is one flower's measurements, in centimetres. The bounds are
// generous: one and a half to two times the largest value in the training data
// (sepal length 7.9, sepal width 4.4, petal length 6.9, petal width 2.5 cm).
// They must match inputBounds.
type Input struct {
	SepalLength float64 `json:"sepal_length" jsonschema:"title=Sepal length,description=Length of the sepal in centimetres (4.3 to 7.9 in the training data).,exclusiveMinimum=0,maximum=12,example=5.1"`
	SepalWidth  float64 `json:"sepal_width" jsonschema:"title=Sepal width,description=Width of the sepal in centimetres (2.0 to 4.4 in the training data).,exclusiveMinimum=0,maximum=8,example=3.5"`
	PetalLength float64 `json:"petal_length" jsonschema:"title=Petal length,description=Length of the petal in centimetres (1.0 to 6.9 in the training data).,exclusiveMinimum=0,maximum=10,example=1.4"`
	PetalWidth  float64 `json:"petal_width" jsonschema:"title=Petal width,description=Width of the petal in centimetres (0.1 to 2.5 in the training data).,exclusiveMinimum=0,maximum=5,example=0.2"`
}

// inputBounds repeats the schema's bounds so that Predict enforces them
// even when it is called without the host's schema validation. Each value
// must be greater than 0 and at most max.
var inputBounds = [classifier.NumFeatures]struct {
	pointer string
	max     float64
}{
	{"/sepal_length", 12},
	{"/sepal_width", 8},
	{"/petal_length", 10},
	{"/petal_width", 5},
}

func (in Input) features() [classifier.NumFeatures]float64 {
	return [classifier.NumFeatures]float64{in.SepalLength, in.SepalWidth, in.PetalLength, in.PetalWidth}
}

// Output is the predicted species and the probability of each.
type Output struct {
	Species       string        `json:"species" jsonschema:"title=Species,description=The most probable species.,enum=setosa,enum=versicolor,enum=virginica"`
	Probabilities Probabilities `json:"probabilities" jsonschema:"title=Probabilities,description=The model's probability for each species rounded to four decimal places; they sum to 1 up to rounding."`
}

// Probabilities is the probability of each species.
type Probabilities struct {
	Setosa     float64 `json:"setosa" jsonschema:"description=Probability that the flower is Iris setosa.,minimum=0,maximum=1"`
	Versicolor float64 `json:"versicolor" jsonschema:"description=Probability that the flower is Iris versicolor.,minimum=0,maximum=1"`
	Virginica  float64 `json:"virginica" jsonschema:"description=Probability that the flower is Iris virginica.,minimum=0,maximum=1"`
}

// examples are one typical flower of each species, from the training data.
// Examples returns a copy.
var examples = []Input{
	{SepalLength: 5.1, SepalWidth: 3.5, PetalLength: 1.4, PetalWidth: 0.2},
	{SepalLength: 5.9, SepalWidth: 3.0, PetalLength: 4.2, PetalWidth: 1.5},
	{SepalLength: 6.7, SepalWidth: 3.0, PetalLength: 5.2, PetalWidth: 2.3},
}

// Examples returns one typical flower of each species, from the training
// data: setosa, versicolor, virginica. They are the examples of the input
// schema.
func Examples() []Input { return slices.Clone(examples) }

// New returns the iris model ("iris_model") with the embedded parameters.
// It panics if they are invalid, which the package's tests would catch.
func New() *sdk.Model[Input, Output] {
	params, err := classifier.ParseParams(paramsJSON)
	if err != nil {
		panic(fmt.Sprintf("iris: embedded params.json: %v", err))
	}
	m := params.Training
	info := sdk.Info{
		QualifiedName: "iris_model",
		DisplayName:   "Iris species classifier",
		Description: fmt.Sprintf("Predicts the species of an iris flower (Iris setosa, Iris versicolor or Iris virginica) "+
			"from four measurements in centimetres: sepal length, sepal width, petal length and petal width. "+
			"It is a multinomial logistic regression (softmax) on standardised measurements, trained by "+
			"full-batch gradient descent with L2 regularisation on %d of the %d flowers of Fisher's 1936 iris data. "+
			"On the %d flowers held out from training (every %dth of each species) it names %d correctly (%.1f%%). "+
			"It returns the most probable species and the probability of each.",
			m.TrainRows, m.TrainRows+m.TestRows, m.TestRows, classifier.HoldOutEvery, m.TestCorrect,
			100*float64(m.TestCorrect)/float64(m.TestRows)),
		Version: "1.0.0",
	}
	predict := func(ctx context.Context, in Input) (Output, error) {
		x := in.features()
		if err := checkBounds(x); err != nil {
			return Output{}, err
		}
		class, probs := params.Predict(x)
		out := Output{
			Species: params.Classes[class],
			Probabilities: Probabilities{
				Setosa:     round4(probs[0]),
				Versicolor: round4(probs[1]),
				Virginica:  round4(probs[2]),
			},
		}
		sdk.Logger(ctx).Debug("predicted", "species", out.Species, "probability", probs[class])
		return out, nil
	}
	return sdk.NewModel(info, predict, sdk.WithExamples(examples...))
}

// checkBounds returns an input error naming every measurement outside
// inputBounds. A measurement left out of the JSON input decodes as 0, so it
// is reported here too.
func checkBounds(x [classifier.NumFeatures]float64) error {
	var fields []sdk.FieldError
	for i, v := range x {
		b := inputBounds[i]
		if !(v > 0 && v <= b.max) {
			fields = append(fields, sdk.FieldError{
				Pointer: b.pointer,
				Detail:  fmt.Sprintf("got %g, want a length in centimetres greater than 0 and at most %g", v, b.max),
			})
		}
	}
	if len(fields) > 0 {
		return sdk.InvalidInput("measurements out of range", fields...)
	}
	return nil
}

func round4(p float64) float64 { return math.Round(p*1e4) / 1e4 }
