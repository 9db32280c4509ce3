package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// resources is what a run costs outside the webhook's round trip: the CPU of
// this process (the server and the load's clients together: both run in the
// test binary, for the floor and for ours, and no part of one process's CPU
// can be told apart from the rest), the CPU of the Redis server, and how
// many times the Redis server read from a client's socket.
//
// Redis reads a request, or a whole pipeline sent at once, in one read of
// the socket when it is smaller than its 16 kB read buffer, as every request
// of the reply path is; so the reads per reply are its round trips to Redis.
// The count covers every client of the server (the simulated meters' polls
// and the benchmark's own INFO included, a handful per run); the floor, one
// GET per reply, measures 1.00, which checks the method.
type resources struct {
	proc       time.Duration // user + system CPU of this process
	redisCPU   time.Duration // used_cpu_user + used_cpu_sys of the Redis server
	redisReads int64         // total_reads_processed
}

func readResources(b *testing.B, rdb *redis.Client) resources {
	b.Helper()
	info, err := rdb.Info(context.Background(), "cpu", "stats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var r resources
	seen := 0
	for line := range strings.SplitSeq(info, "\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch name {
		case "used_cpu_user", "used_cpu_sys":
			s, err := strconv.ParseFloat(value, 64)
			if err != nil {
				b.Fatalf("INFO cpu: %q: %v", line, err)
			}
			r.redisCPU += time.Duration(s * float64(time.Second))
			seen++
		case "total_reads_processed":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				b.Fatalf("INFO stats: %q: %v", line, err)
			}
			r.redisReads = n
			seen++
		}
	}
	if seen != 3 {
		b.Fatalf("INFO cpu stats lacks used_cpu_user, used_cpu_sys or total_reads_processed:\n%s", info)
	}
	r.proc = processCPU(b)
	return r
}

// reportResources adds, per reply between two readings, this process's CPU
// and the Redis server's in µs, and the Redis server's socket reads (round
// trips).
func reportResources(b *testing.B, before, after resources, replies int) {
	b.Helper()
	per := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(replies) }
	if after.proc > 0 {
		b.ReportMetric(per(after.proc-before.proc), "cpu_us/reply")
	}
	b.ReportMetric(per(after.redisCPU-before.redisCPU), "redis_cpu_us/reply")
	b.ReportMetric(float64(after.redisReads-before.redisReads)/float64(replies), "redis_reads/reply")
}
