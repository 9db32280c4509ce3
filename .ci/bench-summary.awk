# Summarise `go test -bench` output: one line per benchmark with its
# figures, then the ratios that matter for capacity planning.
/^Benchmark/ {
  name = $1; sub(/-[0-9]+$/, "", name)
  line = sprintf("%-48s", name)
  for (i = 3; i < NF; i += 2) {
    line = line sprintf("  %s %s", $i, $(i + 1))
    if ($(i + 1) == "ns/op") ns[name] = $i
    metric[name, $(i + 1)] = $i
  }
  print line
}
END {
  print ""
  print "Ratios:"
  if (ns["BenchmarkStep"] > 0 && ns["BenchmarkRunnerApply"] > 0)
    printf("  runner apply / pure step            %6.1fx  (the price of the Redis commit with its version check)\n", ns["BenchmarkRunnerApply"] / ns["BenchmarkStep"])
  if (ns["BenchmarkSegments/ucs2"] > 0 && ns["BenchmarkSegments/gsm7"] > 0)
    printf("  GSM-7 / UCS-2 segment count         %6.1fx\n", ns["BenchmarkSegments/gsm7"] / ns["BenchmarkSegments/ucs2"])
  if (ns["BenchmarkRunnerApply"] > 0)
    printf("  conversation steps per second, one core, one Redis: about %d\n", 1e9 / ns["BenchmarkRunnerApply"])
  if (ns["BenchmarkLoadEndToEnd"] > 0) {
    print ""
    print "End to end:"
    printf("  pppsim load, 30 drivers at 10 payments/s (sms=50,voice=25,app=25): %.2f renewals/s, answer to confirmation p50 %d ms, p99 %d ms, %d exactly-once violations\n",
      metric["BenchmarkLoadEndToEnd", "renewals/s"], metric["BenchmarkLoadEndToEnd", "p50_ms"], metric["BenchmarkLoadEndToEnd", "p99_ms"], metric["BenchmarkLoadEndToEnd", "violations"])
  }
  header = 0
  split("4 16 64", conc, " ")
  for (k = 1; k <= 3; k++) {
    f = "BenchmarkReplyFloor/c=" conc[k]; o = "BenchmarkReplyOurs/c=" conc[k]
    if (metric[f, "replies/s"] <= 0 || metric[o, "replies/s"] <= 0) continue
    if (!header) {
      print ""
      print "Reply path (signed inbound SMS over loopback HTTP: pppd against Echo + signature check + one GET):"
      printf("  %-6s %13s %13s %7s %17s %17s %11s\n", "", "ours/s", "floor/s", "ratio", "p50 ours/floor", "p99 ours/floor", "redis/reply")
      header = 1
    }
    printf("  c=%-4s %13.0f %13.0f %6.2fx %8.1f/%-5.1fms %8.1f/%-5.1fms %5.1f (%.0f Lua)\n", conc[k],
      metric[o, "replies/s"], metric[f, "replies/s"], metric[o, "replies/s"] / metric[f, "replies/s"],
      metric[o, "p50_ms"], metric[f, "p50_ms"], metric[o, "p99_ms"], metric[f, "p99_ms"],
      metric[o, "redis_cmds/reply"], metric[o, "lua_scripts/reply"])
  }
  header = 0
  for (k = 1; k <= 3; k++) {
    f = "BenchmarkReplyFloor/c=" conc[k]; o = "BenchmarkReplyOurs/c=" conc[k]
    if (metric[f, "cpu_us/reply"] <= 0 || metric[o, "cpu_us/reply"] <= 0) continue
    if (!header) {
      print ""
      print "CPU per reply (this process: server and clients together; the Redis server) and Redis round trips:"
      printf("  %-6s %22s %7s %22s %7s %17s\n", "", "process ours/floor", "ratio", "Redis ours/floor", "ratio", "round trips")
      header = 1
    }
    printf("  c=%-4s %10.0f/%-6.0f us %6.2fx %10.0f/%-6.0f us %6.2fx %8.1f/%-5.1f\n", conc[k],
      metric[o, "cpu_us/reply"], metric[f, "cpu_us/reply"], metric[o, "cpu_us/reply"] / metric[f, "cpu_us/reply"],
      metric[o, "redis_cpu_us/reply"], metric[f, "redis_cpu_us/reply"],
      metric[f, "redis_cpu_us/reply"] > 0 ? metric[o, "redis_cpu_us/reply"] / metric[f, "redis_cpu_us/reply"] : 0,
      metric[o, "redis_reads/reply"], metric[f, "redis_reads/reply"])
  }
  f = "BenchmarkReplySteadyFloor"; o = "BenchmarkReplySteadyOurs"
  if (metric[f, "replies/s"] > 0 && metric[o, "replies/s"] > 0) {
    print ""
    print "Reply path at a steady 1,000 requests/s (open loop, 3,000 requests, latency from each request's scheduled start):"
    printf("  %-6s %11s %9s %9s %9s %14s %12s\n", "", "achieved/s", "p50 ms", "p99 ms", "max ms", "cpu us/reply", "redis us/reply")
    printf("  %-6s %11.0f %9.1f %9.1f %9.1f %14.0f %12.0f\n", "ours", metric[o, "replies/s"], metric[o, "p50_ms"], metric[o, "p99_ms"], metric[o, "max_ms"], metric[o, "cpu_us/reply"], metric[o, "redis_cpu_us/reply"])
    printf("  %-6s %11.0f %9.1f %9.1f %9.1f %14.0f %12.0f\n", "floor", metric[f, "replies/s"], metric[f, "p50_ms"], metric[f, "p99_ms"], metric[f, "max_ms"], metric[f, "cpu_us/reply"], metric[f, "redis_cpu_us/reply"])
    if (metric[o, "replies/s"] < 950)
      print "  ours did not keep up with 1,000/s on this machine: its latency is the queue that grew"
  }
  split("100 5000", rates, " ")
  for (k = 1; k <= 2; k++) {
    n = "BenchmarkNoticeBurst/sms_rate=" rates[k]
    if (metric[n, "notices/s"] <= 0) continue
    print ""
    printf("Expiry-notice burst (2,000 notices due at the same instant, one sending number paced at %d texts/s):\n", rates[k])
    printf("  %.1f notices/s, lag from due time to the carrier's acceptance p50 %.1f s, p99 %.1f s, max %.1f s; at most %d accepted in one second; %d due a second late; %.0f us CPU and %.0f us Redis CPU per notice\n",
      metric[n, "notices/s"], metric[n, "p50_ms"] / 1000, metric[n, "p99_ms"] / 1000, metric[n, "max_ms"] / 1000, metric[n, "peak_per_s"], metric[n, "late_due"], metric[n, "cpu_us/notice"], metric[n, "redis_cpu_us/notice"])
  }
  if (metric["BenchmarkRedisBytesPerConversation", "active_B/conv"] > 0) {
    n = "BenchmarkRedisBytesPerConversation"
    print ""
    printf("Redis per conversation: %d B active, %d B ended; one conversation %d B after 1,000 steps and %d B after 20,000 (bounded by its history cap)\n",
      metric[n, "active_B/conv"], metric[n, "finished_B/conv"], metric[n, "after_1k_steps_B"], metric[n, "after_20k_steps_B"])
  }
}
