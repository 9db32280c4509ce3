package devicelink

import (
	"crypto/sha1"
	"embed"
	"encoding/hex"
	"io/fs"
	"strings"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// ScriptSHAs maps the name of every embedded Lua script (its file name
// without .lua) to its SHA-1, as EVALSHA names it.
func ScriptSHAs() map[string]string {
	out := map[string]string{}
	names, _ := fs.Glob(luaFiles, "lua/*.lua")
	for _, n := range names {
		b, _ := luaFiles.ReadFile(n)
		sum := sha1.Sum(b)
		out[strings.TrimSuffix(strings.TrimPrefix(n, "lua/"), ".lua")] = hex.EncodeToString(sum[:])
	}
	return out
}

// Key builders for tests that look at stored data.
var (
	KeyMeter         = keyMeter
	KeySecurityBurst = keySecurityBurst
	KeyMeters        = keyMeters
	KeyTimers        = keyTimers
	KeySeen          = keySeen
)
