package devicelink

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed lua/create_meter.lua
	luaCreateMeter string
	//go:embed lua/accept_counter.lua
	luaAcceptCounter string
	//go:embed lua/upload.lua
	luaUpload string
	//go:embed lua/advance_sink.lua
	luaAdvanceSink string
	//go:embed lua/enqueue.lua
	luaEnqueue string
	//go:embed lua/transition.lua
	luaTransition string
	//go:embed lua/set_bay.lua
	luaSetBay string
	//go:embed lua/timer.lua
	luaTimer string
	//go:embed lua/touch.lua
	luaTouch string
	//go:embed lua/call_status.lua
	luaCallStatus string
	//go:embed lua/unlock.lua
	luaUnlock string
	//go:embed lua/rotate_begin.lua
	luaRotateBegin string
	//go:embed lua/promote_key.lua
	luaPromoteKey string
	//go:embed lua/drop_next_key.lua
	luaDropNextKey string
	//go:embed lua/release_sim.lua
	luaReleaseSIM string
)

var (
	scriptCreateMeter   = redis.NewScript(luaCreateMeter)
	scriptAcceptCounter = redis.NewScript(luaAcceptCounter)
	scriptUpload        = redis.NewScript(luaUpload)
	scriptAdvanceSink   = redis.NewScript(luaAdvanceSink)
	scriptEnqueue       = redis.NewScript(luaEnqueue)
	scriptTransition    = redis.NewScript(luaTransition)
	scriptSetBay        = redis.NewScript(luaSetBay)
	scriptTimer         = redis.NewScript(luaTimer)
	scriptTouch         = redis.NewScript(luaTouch)
	scriptCallStatus    = redis.NewScript(luaCallStatus)
	scriptUnlock        = redis.NewScript(luaUnlock)
	scriptRotateBegin   = redis.NewScript(luaRotateBegin)
	scriptPromoteKey    = redis.NewScript(luaPromoteKey)
	scriptDropNextKey   = redis.NewScript(luaDropNextKey)
	scriptReleaseSIM    = redis.NewScript(luaReleaseSIM)
)
