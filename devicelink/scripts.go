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
)

var (
	scriptCreateMeter   = redis.NewScript(luaCreateMeter)
	scriptAcceptCounter = redis.NewScript(luaAcceptCounter)
	scriptUpload        = redis.NewScript(luaUpload)
	scriptAdvanceSink   = redis.NewScript(luaAdvanceSink)
	scriptEnqueue       = redis.NewScript(luaEnqueue)
	scriptTransition    = redis.NewScript(luaTransition)
	scriptSetBay        = redis.NewScript(luaSetBay)
)
