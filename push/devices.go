package push

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed lua/register.lua
	registerLua    string
	registerScript = redis.NewScript(registerLua)
	//go:embed lua/remove.lua
	removeLua    string
	removeScript = redis.NewScript(removeLua)
)

// Device is a registered app install.
type Device struct {
	Platform Platform `json:"platform"`
	Token    string   `json:"token"`
}

// Devices keeps users' device tokens in Redis. A token belongs to one user:
// registering it for another user moves it.
type Devices struct {
	rdb redis.UniversalClient
	max int
}

// NewDevices returns a device store on rdb allowing max devices per user
// (DefaultConfig's when max <= 0).
func NewDevices(rdb redis.UniversalClient, max int) *Devices {
	if max <= 0 {
		max = DefaultConfig().MaxDevices
	}
	return &Devices{rdb: rdb, max: max}
}

// Register adds a device to a user and reports whether it is new. It
// returns ErrUnknownPlatform, ErrBadDeviceToken or ErrTooManyDevices.
func (d *Devices) Register(ctx context.Context, userID string, p Platform, token string) (bool, error) {
	if err := ValidToken(p, token); err != nil {
		return false, err
	}
	for range 8 {
		owner, err := d.rdb.Get(ctx, keyOwner(token)).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return false, err
		}
		prev := keyDevices(userID)
		if owner != "" {
			prev = keyDevices(owner)
		}
		n, err := registerScript.Run(ctx, d.rdb, []string{keyDevices(userID), keyOwner(token), prev},
			userID, token, string(p), strconv.Itoa(d.max), owner).Int()
		if err != nil {
			return false, fmt.Errorf("register device: %w", err)
		}
		switch n {
		case -1:
			continue
		case -2:
			return false, fmt.Errorf("%w (%d)", ErrTooManyDevices, d.max)
		}
		return n == 1, nil
	}
	return false, errors.New("register device: token owner kept changing")
}

// Remove removes a device from a user; ErrDeviceNotFound when the user had
// no such device.
func (d *Devices) Remove(ctx context.Context, userID, token string) error {
	n, err := removeScript.Run(ctx, d.rdb, []string{keyDevices(userID), keyOwner(token)}, userID, token).Int()
	if err != nil {
		return fmt.Errorf("remove device: %w", err)
	}
	if n == 0 {
		return ErrDeviceNotFound
	}
	return nil
}

// List returns a user's devices ordered by token.
func (d *Devices) List(ctx context.Context, userID string) ([]Device, error) {
	m, err := d.rdb.HGetAll(ctx, keyDevices(userID)).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Device, 0, len(m))
	for tok, p := range m {
		out = append(out, Device{Platform: Platform(p), Token: tok})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Token < out[j].Token })
	return out, nil
}
