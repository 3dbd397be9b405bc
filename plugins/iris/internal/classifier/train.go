package classifier

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Method describes the model and how Train fits it; it is recorded in the
// parameters.
const Method = "multinomial logistic regression (softmax) on standardised features, " +
	"fitted by full-batch gradient descent on the mean cross-entropy plus an L2 penalty " +
	"(l2/2 times the sum of squared weights; biases unpenalised), starting from all-zero weights"

// TrainConfig holds the hyperparameters of Train.
type TrainConfig struct {
	// Iterations is the fixed number of gradient descent steps.
	Iterations int
	// LearningRate is the step size.
	LearningRate float64
	// L2 is the strength of the L2 penalty on the weights.
	L2 float64
}

// DefaultConfig is the configuration the committed params.json was trained
// with. After 10000 steps the weights have settled: further steps change them
// by well under 1%.
var DefaultConfig = TrainConfig{Iterations: 10000, LearningRate: 0.5, L2: 0.001}

// significantDigits is how many significant digits trained parameters keep.
// Rounding makes params.json readable, and makes its bytes reproducible
// across CPU architectures whose floating-point functions may differ in the
// last bit.
const significantDigits = 10

// Fit is the whole training run: it loads the CSV data, splits it by
// SplitRule, trains on the training rows with cfg, rounds the parameters, and
// records in their metadata the data's SHA-256, the split, cfg and the
// rounded model's accuracy on both parts. dataFile names the data in the
// metadata. Fit is deterministic: the same data and cfg give the same bytes
// from Encode.
func Fit(data []byte, dataFile string, cfg TrainConfig) (*Params, error) {
	samples, err := LoadCSV(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	train, test := Split(samples)
	if len(train) == 0 || len(test) == 0 {
		return nil, fmt.Errorf("split of %d rows gives %d for training and %d for testing, want both non-empty", len(samples), len(train), len(test))
	}
	p, err := Train(train, cfg)
	if err != nil {
		return nil, err
	}
	p.round()
	sum := sha256.Sum256(data)
	trainCorrect, testCorrect := p.Accuracy(train), p.Accuracy(test)
	p.Training = Metadata{
		DataFile:      dataFile,
		DataSHA256:    hex.EncodeToString(sum[:]),
		Method:        Method,
		Split:         SplitRule,
		TrainRows:     len(train),
		TestRows:      len(test),
		Iterations:    cfg.Iterations,
		LearningRate:  cfg.LearningRate,
		L2:            cfg.L2,
		TrainCorrect:  trainCorrect,
		TrainAccuracy: ratio(trainCorrect, len(train)),
		TestCorrect:   testCorrect,
		TestAccuracy:  ratio(testCorrect, len(test)),
	}
	return p, nil
}

// Train fits a multinomial logistic regression to samples: it standardises
// the features with the samples' mean and population standard deviation,
// then runs cfg.Iterations steps of full-batch gradient descent from zero
// weights. It uses no randomness. The returned Params has no Metadata.
func Train(samples []Sample, cfg TrainConfig) (*Params, error) {
	if len(samples) == 0 {
		return nil, errors.New("train: no samples")
	}
	if cfg.Iterations <= 0 || !(cfg.LearningRate > 0) || !(cfg.L2 >= 0) {
		return nil, fmt.Errorf("train: invalid configuration %+v", cfg)
	}
	numClasses := len(Classes)
	p := &Params{
		Classes:  append([]string(nil), Classes...),
		Features: append([]string(nil), Features[:]...),
		Mean:     make([]float64, NumFeatures),
		Std:      make([]float64, NumFeatures),
		Weights:  make([][]float64, numClasses),
		Biases:   make([]float64, numClasses),
	}
	for k := range p.Weights {
		p.Weights[k] = make([]float64, NumFeatures)
	}

	n := float64(len(samples))
	for _, s := range samples {
		if s.Class < 0 || s.Class >= numClasses {
			return nil, fmt.Errorf("train: class %d out of range", s.Class)
		}
		for j, x := range s.Features {
			p.Mean[j] += x
		}
	}
	for j := range p.Mean {
		p.Mean[j] /= n
	}
	for _, s := range samples {
		for j, x := range s.Features {
			d := x - p.Mean[j]
			p.Std[j] += d * d
		}
	}
	for j := range p.Std {
		p.Std[j] = math.Sqrt(p.Std[j] / n)
		if !(p.Std[j] > 0) {
			return nil, fmt.Errorf("train: feature %s does not vary", Features[j])
		}
	}

	z := make([][NumFeatures]float64, len(samples))
	for i, s := range samples {
		z[i] = p.Standardize(s.Features)
	}
	gradW := make([][NumFeatures]float64, numClasses)
	gradB := make([]float64, numClasses)
	for range cfg.Iterations {
		clear(gradW)
		clear(gradB)
		for i, s := range samples {
			probs := p.probabilitiesStandardized(z[i])
			for k, pk := range probs {
				d := pk
				if k == s.Class {
					d--
				}
				for j, x := range z[i] {
					gradW[k][j] += d * x
				}
				gradB[k] += d
			}
		}
		for k := range p.Weights {
			for j := range p.Weights[k] {
				g := gradW[k][j]/n + cfg.L2*p.Weights[k][j]
				p.Weights[k][j] -= cfg.LearningRate * g
			}
			p.Biases[k] -= cfg.LearningRate * gradB[k] / n
		}
	}
	return p, nil
}

// round keeps significantDigits significant digits of every parameter.
func (p *Params) round() {
	for _, v := range append([][]float64{p.Mean, p.Std, p.Biases}, p.Weights...) {
		for i, x := range v {
			v[i] = roundSignificant(x, significantDigits)
		}
	}
}

func roundSignificant(x float64, digits int) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', digits, 64), 64)
	if err != nil {
		return x
	}
	return r
}

// ratio returns correct/total rounded to four decimal places.
func ratio(correct, total int) float64 {
	return math.Round(float64(correct)/float64(total)*1e4) / 1e4
}
