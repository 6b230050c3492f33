package main

import "testing"

func TestLeftBehindReadsTheStampsBackend(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stamps []string
		chosen string
		want   bool
	}{
		{"no stamps", nil, BackendIPTables, false},
		{"same backend", []string{"ipt0123456789abcdef.1f"}, BackendIPTables, false},
		{"other backend", []string{"ipt0123456789abcdef.1f"}, BackendNFTables, true},
		{"both, one family each", []string{"nft0123456789abcdef.2", "ipt0123456789abcdef.1f"}, BackendNFTables, true},
		{"a stamp of no backend", []string{"0123456789abcdef.1f"}, BackendNFTables, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := leftBehind(tc.stamps, tc.chosen); got != tc.want {
				t.Errorf("leftBehind(%q, %s) = %v, want %v", tc.stamps, tc.chosen, got, tc.want)
			}
		})
	}
}
