package api

import "time"

// Observer is told what the API does, for metrics. The host's metrics
// implement it; its methods must be cheap and safe for concurrent use.
// model and version are "" when the request reached no model.
type Observer interface {
	// RequestStarted is called when a request arrives; it returns the
	// function to call when the request is over. ObserveRequest is called
	// when its answer has been written. route is the route pattern that
	// matched (such as "/api/models/:name/predict"), "" if none did.
	RequestStarted(route string) (done func())
	ObserveRequest(route, method, model, version string, code int, d time.Duration)
	// ObservePluginCall is called after each call to a model's plugin:
	// method is "predict" or "predict_batch", err the call's error.
	ObservePluginCall(model, version, method string, d time.Duration, err error)
	// ObserveQueueWait is called when a request waited for a concurrency
	// slot, QueueRejected when it was refused one (reason is
	// limit.ReasonQueueFull or limit.ReasonQueueTimeout).
	ObserveQueueWait(model, version string, d time.Duration)
	QueueRejected(model, version, reason string)
}

// nopObserver is the Observer of an API without metrics.
type nopObserver struct{}

func (nopObserver) RequestStarted(string) func()                                      { return nop }
func (nopObserver) ObserveRequest(string, string, string, string, int, time.Duration) {}
func (nopObserver) ObservePluginCall(string, string, string, time.Duration, error)    {}
func (nopObserver) ObserveQueueWait(string, string, time.Duration)                    {}
func (nopObserver) QueueRejected(string, string, string)                              {}

func nop() {}
