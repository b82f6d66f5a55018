package sis

import "time"

// phaseHook, when set (by the benchmarks), receives the duration of each phase of a run.
var phaseHook func(phase string, d time.Duration)

// tracePhase reports the phase that began at start to phaseHook, and returns now, the start
// of the next phase.
func tracePhase(phase string, start time.Time) time.Time {
	now := time.Now()
	if phaseHook != nil {
		phaseHook(phase, now.Sub(start))
	}
	return now
}
