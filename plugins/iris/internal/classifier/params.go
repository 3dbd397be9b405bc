// Package classifier is the iris species classifier shared by the iris
// plugin and its training program, so that its math is written once:
// loading the labelled CSV data, the deterministic train/test split, feature
// standardisation, softmax scoring, and training a multinomial logistic
// regression by full-batch gradient descent.
//
// The trained model is a Params value, stored as indented JSON.
package classifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Params is a trained multinomial logistic regression over standardised
// features. The score of class k for a flower x is
//
//	Biases[k] + Σ_j Weights[k][j] · (x[j] − Mean[j]) / Std[j]
//
// and its probability is the softmax of the scores.
type Params struct {
	// Classes names the classes, in the order of Weights and Biases.
	Classes []string `json:"classes"`
	// Features names the inputs, in the order of Mean, Std and each row of
	// Weights.
	Features []string `json:"features"`
	// Mean and Std standardise each feature; they are the training set's
	// mean and population standard deviation.
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
	// Weights has one row per class and one column per feature.
	Weights [][]float64 `json:"weights"`
	// Biases has one intercept per class.
	Biases []float64 `json:"biases"`
	// Training records how the parameters were made.
	Training Metadata `json:"training"`
}

// Metadata records how a Params was trained and how well it did.
type Metadata struct {
	DataFile      string  `json:"data_file"`
	DataSHA256    string  `json:"data_sha256"`
	Method        string  `json:"method"`
	Split         string  `json:"split"`
	TrainRows     int     `json:"train_rows"`
	TestRows      int     `json:"test_rows"`
	Iterations    int     `json:"iterations"`
	LearningRate  float64 `json:"learning_rate"`
	L2            float64 `json:"l2"`
	TrainCorrect  int     `json:"train_correct"`
	TrainAccuracy float64 `json:"train_accuracy"`
	TestCorrect   int     `json:"test_correct"`
	TestAccuracy  float64 `json:"test_accuracy"`
}

// ParseParams decodes parameters written by Encode and checks that they are
// complete and consistent with Classes and Features.
func ParseParams(data []byte) (*Params, error) {
	var p Params
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decode parameters: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate reports whether p can score flowers: its classes and features
// are Classes and Features, its arrays have matching sizes, every number is
// finite and every standard deviation positive.
func (p *Params) Validate() error {
	var errs []error
	if !slices.Equal(p.Classes, Classes) {
		errs = append(errs, fmt.Errorf("classes are %q, want %q", p.Classes, Classes))
	}
	if !slices.Equal(p.Features, Features[:]) {
		errs = append(errs, fmt.Errorf("features are %q, want %q", p.Features, Features))
	}
	checkVec := func(name string, v []float64, n int) {
		if len(v) != n {
			errs = append(errs, fmt.Errorf("%s has %d values, want %d", name, len(v), n))
			return
		}
		for i, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				errs = append(errs, fmt.Errorf("%s[%d] is %v, want a finite number", name, i, x))
			}
		}
	}
	checkVec("mean", p.Mean, NumFeatures)
	checkVec("std", p.Std, NumFeatures)
	for i, s := range p.Std {
		if s <= 0 {
			errs = append(errs, fmt.Errorf("std[%d] is %v, want a positive number", i, s))
		}
	}
	checkVec("biases", p.Biases, len(Classes))
	if len(p.Weights) != len(Classes) {
		errs = append(errs, fmt.Errorf("weights has %d rows, want %d", len(p.Weights), len(Classes)))
	}
	for k, row := range p.Weights {
		checkVec(fmt.Sprintf("weights[%d]", k), row, NumFeatures)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid parameters: %w", errors.Join(errs...))
	}
	return nil
}

// Encode returns p as indented JSON ending in a newline, the form of the
// committed params.json.
func (p *Params) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode parameters: %w", err)
	}
	return append(b, '\n'), nil
}

// Standardize returns x centred on Mean and scaled by Std.
func (p *Params) Standardize(x [NumFeatures]float64) [NumFeatures]float64 {
	var z [NumFeatures]float64
	for j := range z {
		z[j] = (x[j] - p.Mean[j]) / p.Std[j]
	}
	return z
}

// Probabilities returns the probability of each class, in the order of
// Classes, for the raw (unstandardised) measurements x.
func (p *Params) Probabilities(x [NumFeatures]float64) []float64 {
	return p.probabilitiesStandardized(p.Standardize(x))
}

// Predict returns the index of the most probable class for the raw
// measurements x, and the probability of each class. Ties go to the lower
// index.
func (p *Params) Predict(x [NumFeatures]float64) (class int, probs []float64) {
	probs = p.Probabilities(x)
	return argmax(probs), probs
}

// Accuracy returns how many samples p classifies correctly.
func (p *Params) Accuracy(samples []Sample) (correct int) {
	for _, s := range samples {
		if c, _ := p.Predict(s.Features); c == s.Class {
			correct++
		}
	}
	return correct
}

func (p *Params) probabilitiesStandardized(z [NumFeatures]float64) []float64 {
	scores := make([]float64, len(p.Weights))
	for k, row := range p.Weights {
		s := p.Biases[k]
		for j, w := range row {
			s += w * z[j]
		}
		scores[k] = s
	}
	return Softmax(scores)
}

// Softmax returns exp(s[k]) / Σ_i exp(s[i]) for each k, computed without
// overflow by first subtracting the largest score.
func Softmax(scores []float64) []float64 {
	if len(scores) == 0 {
		return nil
	}
	maxScore := slices.Max(scores)
	out := make([]float64, len(scores))
	var sum float64
	for k, s := range scores {
		out[k] = math.Exp(s - maxScore)
		sum += out[k]
	}
	for k := range out {
		out[k] /= sum
	}
	return out
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
