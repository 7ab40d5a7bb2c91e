package serve

import "testing"

func TestDarkFromCOLORFGBG(t *testing.T) {
	for _, tt := range []struct {
		in          string
		dark, known bool
	}{
		{"15;0", true, true},  // white on black
		{"0;15", false, true}, // black on white
		{"0;default;15", false, true},
		{"7;8", true, true},   // grey background
		{"12;7", false, true}, // light grey background
		{"", false, false},
		{"15;x", false, false},
		{"15;99", false, false},
	} {
		dark, known := darkFromCOLORFGBG(tt.in)
		if dark != tt.dark || known != tt.known {
			t.Errorf("%q: dark=%v known=%v, want %v %v", tt.in, dark, known, tt.dark, tt.known)
		}
	}
}
