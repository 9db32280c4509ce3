package push

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Redis keys of the push package; the schema is in the package doc.

func keyDevices(user string) string { return "ppp:push:dev:" + user }
func keyOwner(token string) string  { return "ppp:push:owner:" + sha256Hex(token) }
func keyIntent(effect string) string {
	return "ppp:push:out:" + effect
}
func keyAppToken(hash string) string { return "ppp:app:tok:" + hash }
func keyRate(user string, minute int64) string {
	return "ppp:app:rl:" + user + ":" + strconv.FormatInt(minute, 10)
}
func keyIdem(user, key string) string { return "ppp:app:idem:" + user + ":" + key }

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
