// Package iperf reads the JSON report of an iperf3 client (`iperf3 -J`).
package iperf

import (
	"encoding/json"
	"fmt"
)

// Result is the part of an iperf3 client report the benchmark uses.
type Result struct {
	// ReceivedBitsPerSecond is the goodput measured by the receiver.
	ReceivedBitsPerSecond float64
	// Retransmits is the sender's total TCP retransmissions.
	Retransmits int64
}

// Parse decodes an iperf3 -J report of a TCP test.
func Parse(report []byte) (Result, error) {
	var r struct {
		Error string `json:"error"`
		End   struct {
			SumSent struct {
				Retransmits *int64 `json:"retransmits"`
			} `json:"sum_sent"`
			SumReceived struct {
				BitsPerSecond *float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(report, &r); err != nil {
		return Result{}, fmt.Errorf("decoding iperf3 report: %w", err)
	}
	if r.Error != "" {
		return Result{}, fmt.Errorf("iperf3 reported: %s", r.Error)
	}
	if r.End.SumReceived.BitsPerSecond == nil || r.End.SumSent.Retransmits == nil {
		return Result{}, fmt.Errorf("decoding iperf3 report: end.sum_received.bits_per_second or end.sum_sent.retransmits missing")
	}
	return Result{ReceivedBitsPerSecond: *r.End.SumReceived.BitsPerSecond, Retransmits: *r.End.SumSent.Retransmits}, nil
}
