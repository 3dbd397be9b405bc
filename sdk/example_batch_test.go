package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/modelhost/modelhost/sdk"
)

// The code of this example is the one in docs/writing-a-plugin.md
// ("Batch predictions"); keep them the same.

type Flat struct {
	Rooms  float64 `json:"rooms" jsonschema:"minimum=1,maximum=20"`
	AreaM2 float64 `json:"area_m2" jsonschema:"exclusiveMinimum=0,maximum=1000"`
	Floor  float64 `json:"floor" jsonschema:"minimum=0,maximum=100"`
}

type Rent struct {
	EUR float64 `json:"eur"`
}

// A linear model over (rooms, area_m2, floor).
var (
	weights = []float64{55, 11.5, 4}
	bias    = 120.0
)

// predictRents prices all flats in one pass: it stacks them into an N×3
// matrix and multiplies it by the weights.
func predictRents(ctx context.Context, flats []Flat) ([]Rent, []error) {
	x := make([]float64, 0, 3*len(flats)) // row-major, one row per flat
	for _, f := range flats {
		x = append(x, f.Rooms, f.AreaM2, f.Floor)
	}
	y := matVec(x, weights) // with a numerical library: one vectorised call
	rents := make([]Rent, len(flats))
	var errs []error // nil: every flat succeeded
	for i, f := range flats {
		if f.AreaM2 < 8*f.Rooms {
			if errs == nil {
				errs = make([]error, len(flats))
			}
			errs[i] = sdk.InvalidInput("", sdk.FieldError{Pointer: "/rooms", Detail: "want at least 8 m² per room"})
			continue
		}
		rents[i] = Rent{EUR: bias + y[i]}
	}
	return rents, errs
}

// matVec returns the product of the row-major matrix x and the vector w.
func matVec(x, w []float64) []float64 {
	y := make([]float64, len(x)/len(w))
	for i := range y {
		for j, wj := range w {
			y[i] += x[i*len(w)+j] * wj
		}
	}
	return y
}

// predictRent prices one flat, as a batch of one.
func predictRent(ctx context.Context, f Flat) (Rent, error) {
	rents, errs := predictRents(ctx, []Flat{f})
	if errs != nil && errs[0] != nil {
		return Rent{}, errs[0]
	}
	return rents[0], nil
}

func newRentModel() *sdk.Model[Flat, Rent] {
	return sdk.NewModel(sdk.Info{
		QualifiedName: "flat_rent",
		DisplayName:   "Flat rent",
		Description:   "Estimates the monthly rent of a flat.",
		Version:       "1.0.0",
	}, predictRent,
		sdk.WithExamples(Flat{Rooms: 3, AreaM2: 72, Floor: 2}),
		sdk.WithBatch(predictRents),
	)
}

func ExampleWithBatch() {
	m := newRentModel()
	outputs, errs := m.PredictBatch(context.Background(), []json.RawMessage{
		json.RawMessage(`{"rooms":3,"area_m2":72,"floor":2}`),
		json.RawMessage(`{"rooms":5,"area_m2":30,"floor":0}`),
		json.RawMessage(`{"rooms":1,"area_m2":"big","floor":0}`),
		json.RawMessage(`{"rooms":2,"area_m2":50,"floor":4}`),
	})
	for i := range outputs {
		fmt.Printf("%d: %s %v\n", i, outputs[i], errs[i])
	}
	// Output:
	// 0: {"eur":1121} <nil>
	// 1:  invalid input; /rooms: want at least 8 m² per room
	// 2:  invalid input; /area_m2: got JSON string, want number
	// 3: {"eur":821} <nil>
}
