  void Drive();
  // Drive()'s event loop (event_loop.h): until the load is over and no
  // fault is pending.
  void DriveLoop();
  // The WebSocket clients of load.websockets, connected before the load.
  bool StartWebSockets();
  // Opens the kernel's view of the target's port, or notes why it cannot:
  // it is what tells a dropped request from one never accepted, and what
  // counts `in_flight`.
  void OpenSocketWatch();
  // The live counters for the console, from the load and the nemesis.
  void PublishProgress();
  std::unique_ptr<RollingRestartDriver> rollout_;
  std::unique_ptr<Nemesis> nemesis_;
  std::unique_ptr<Load> load_;  // after nemesis_: destroyed first, it calls it
  std::unique_ptr<DatabaseWatch> watch_;  // the same
  // The kernel's view of the target's sockets, its looks kept in
  // record_.kernel (or why there is none in record_.kernel_view_missing);
  // it calls the load and the nemesis, so it stops before they go.
  std::unique_ptr<KernelWatch> kernel_;
  Clock::time_point load_start_, load_end_;
  std::unique_ptr<WebSocketLoad> websockets_;
