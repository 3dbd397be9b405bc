package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/modelhost/modelhost/sdk/internal/modelpb"
)

// maxStreamInput is the largest input the host sends on the prediction
// stream. A larger one goes in a Predict call of its own, so that it does
// not hold up the small ones queued behind it in the stream's flow-control
// window.
const maxStreamInput = 64 << 10

// predictStreams sends a plugin's predictions over PredictStream: one
// long-lived stream carries them all, each request with an id, each answer
// with its request's id, which costs far less per prediction than a call
// (no stream to open and close, no headers and trailers to encode and
// decode). A stream that breaks fails the predictions waiting on it; the
// next prediction opens a new one.
type predictStreams struct {
	rpc modelpb.ModelServiceClient
	// maxOutput, if positive, is the largest output each request asks for
	// (WithMaxOutputBytes).
	maxOutput int64
	next      atomic.Uint64 // the last id used, on any stream
	// off is set when the plugin turns out not to serve PredictStream
	// although Describe said it does: predictions go in calls from then on.
	off atomic.Bool

	mu  sync.Mutex                    // held while a stream is opened
	cur atomic.Pointer[predictStream] // nil before the first prediction
}

// predictStream is one PredictStream call and the predictions waiting for
// their answers on it.
type predictStream struct {
	streams *predictStreams
	stream  modelpb.ModelService_PredictStreamClient
	end     context.CancelFunc // ends the call

	sendMu sync.Mutex // Send is not safe for concurrent use

	mu      sync.Mutex
	pending map[uint64]chan<- streamResult
	err     error // why the stream broke; once set, it takes no predictions
}

// errNoStream fails the predictions sent on a stream the plugin does not
// serve after all; RemoteModel.Predict sends them again in calls.
var errNoStream = errors.New("the plugin does not serve PredictStream")

// streamResult is the answer to one prediction, or why there is none.
type streamResult struct {
	res *modelpb.PredictStreamResponse
	err error
}

// predict sends input on the current stream, opening one if there is none
// or it broke, and waits for the answer or for ctx. It returns what
// RemoteModel.Predict returns.
func (p *predictStreams) predict(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
	var timeout time.Duration
	if deadline, ok := ctx.Deadline(); ok {
		if timeout = time.Until(deadline); timeout <= 0 {
			return nil, fmt.Errorf("plugin call: %w", context.DeadlineExceeded)
		}
	}
	id := p.next.Add(1)
	answer := make(chan streamResult, 1)
	s, err := p.enter(id, answer)
	if err != nil {
		return nil, err
	}
	req := &modelpb.PredictStreamRequest{Id: id, Input: input, TimeoutNanos: int64(timeout), MaxOutputBytes: p.maxOutput}
	if err := s.send(req); err != nil && !errors.Is(err, io.EOF) {
		// Refused before it left (io.EOF instead means the stream has
		// ended, and the receiver fails every prediction with the reason).
		s.unregister(id)
		return nil, fromStatus(ctx, err)
	}
	select {
	case r := <-answer:
		switch {
		case r.err != nil:
			return nil, r.err
		case r.res.GetTimedOut():
			return nil, fmt.Errorf("plugin call: %w", context.DeadlineExceeded)
		case r.res.GetError() != nil:
			return nil, fromProtoError(r.res.GetError())
		case r.res.GetOversizedOutputBytes() > 0:
			return nil, &OutputTooLargeError{Limit: p.maxOutput, Size: r.res.GetOversizedOutputBytes()}
		}
		return r.res.GetOutput(), nil
	case <-ctx.Done():
		if s.unregister(id) {
			// Let the plugin stop working on it; if this fails, the
			// stream is broken and the prediction ends with it.
			_ = s.send(&modelpb.PredictStreamRequest{Id: id, Cancel: true})
		}
		return nil, fmt.Errorf("plugin call: %w", ctx.Err())
	}
}

// enter registers prediction id, whose answer goes to answer, on the
// current stream and returns it, opening a stream if there is none or the
// current one broke.
func (p *predictStreams) enter(id uint64, answer chan<- streamResult) (*predictStream, error) {
	if s := p.cur.Load(); s != nil && s.register(id, answer) == nil {
		return s, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.cur.Load(); s != nil && s.register(id, answer) == nil {
		return s, nil // another prediction opened it meanwhile
	}
	ctx, end := context.WithCancel(context.Background())
	stream, err := p.rpc.PredictStream(ctx)
	if err != nil {
		end()
		return nil, fromStatus(context.Background(), err)
	}
	s := &predictStream{streams: p, stream: stream, end: end, pending: map[uint64]chan<- streamResult{id: answer}}
	p.cur.Store(s)
	go s.receive()
	return s, nil
}

// receive hands each answer to the prediction waiting for it, until the
// stream breaks.
func (s *predictStream) receive() {
	for {
		res, err := s.stream.Recv()
		if err != nil {
			s.fail(err)
			return
		}
		s.mu.Lock()
		answer := s.pending[res.GetId()]
		delete(s.pending, res.GetId())
		s.mu.Unlock()
		if answer != nil { // else the prediction was given up
			answer <- streamResult{res: res}
		}
	}
}

// fail ends the stream after err, failing every prediction waiting on it.
func (s *predictStream) fail(err error) {
	switch {
	case status.Code(err) == codes.Unimplemented:
		// The plugin ran none of the predictions: they may be sent again.
		s.streams.off.Store(true)
		err = errNoStream
	case errors.Is(err, io.EOF):
		err = fmt.Errorf("%w: the plugin ended the prediction stream", ErrUnavailable)
	default:
		// The stream's context is canceled only here, so a Canceled
		// status means the connection closed: the plugin has gone.
		err = fromStatus(context.Background(), err)
	}
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	for _, answer := range pending {
		answer <- streamResult{err: err}
	}
	s.end()
}

// register makes answer the channel of prediction id's answer. It fails
// with the reason if the stream has broken.
func (s *predictStream) register(id uint64, answer chan<- streamResult) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.pending[id] = answer
	return nil
}

// unregister gives prediction id up; it reports whether it was still
// waiting.
func (s *predictStream) unregister(id uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.pending[id]
	delete(s.pending, id)
	return ok
}

func (s *predictStream) send(req *modelpb.PredictStreamRequest) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return s.stream.Send(req)
}
