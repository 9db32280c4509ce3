package push

import "errors"

// Sentinel errors of the push package.
var (
	// ErrInvalidToken means the provider reported the device token
	// unregistered or malformed: the token must be removed.
	ErrInvalidToken = errors.New("push: invalid device token")
	// ErrUnknownPlatform means a platform is neither "fcm" nor "apns".
	ErrUnknownPlatform = errors.New("push: unknown platform")
	// ErrBadDeviceToken means a device token is not in its platform's form.
	ErrBadDeviceToken = errors.New("push: malformed device token")
	// ErrTooManyDevices means the user has registered Config.MaxDevices
	// devices already.
	ErrTooManyDevices = errors.New("push: too many devices")
	// ErrDeviceNotFound means the device token is not registered to the
	// user.
	ErrDeviceNotFound = errors.New("push: device not found")
	// ErrUnknownUser means an app token was asked for a user that is not
	// registered.
	ErrUnknownUser = errors.New("push: unknown user")
	// ErrUnauthenticated means an app bearer token is unknown or revoked.
	ErrUnauthenticated = errors.New("push: unknown app token")
)
