// Logging: one line per event on stderr, written with a single write(2) so
// lines from concurrent threads never interleave, and unbuffered so the
// harness sees each event the moment it happens.
#ifndef PAYMENT_SERVER_LOG_H_
#define PAYMENT_SERVER_LOG_H_

#include <string>

void log_line(const std::string& line);

#endif  // PAYMENT_SERVER_LOG_H_
