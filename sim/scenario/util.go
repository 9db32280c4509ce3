package scenario

import (
	"fmt"
)

func money(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }
