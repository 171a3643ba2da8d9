#pragma once
// The plumbing every workshop program shares, so a lesson's code can be about the lesson.
// Students use these; they never need to edit them. One header per concern:
#include "workshop/accepting.hpp"    // the listening socket, ready line, signals, --max-clients
#include "workshop/errors.hpp"       // the error policy: workshop::use_tuple
#include "workshop/flags.hpp"        // --host, --port, --help, a bad flag exits 2
#include "workshop/log.hpp"          // workshop::log(...): one line on stderr
#include "workshop/shared_read.hpp"  // read_some_shared: a read buffer shared by all connections
