// Input whose read(2) truly fails midway, without root or fault injection: the master
// side of a pseudo-terminal. Once its other side is closed, reads return what was
// written to it, then fail with EIO.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <stdexcept>
#include <string_view>

namespace reftrack::testing {

// A descriptor (the caller closes it) that reads `text` then fails with EIO. `text`
// must be small (a few KiB) to fit the terminal's buffer.
inline int InputFailingAfter(std::string_view text) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    throw std::runtime_error("no pseudo-terminal");
  }
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
  if (slave < 0) throw std::runtime_error("cannot open the pseudo-terminal's other side");
  termios raw{};
  tcgetattr(slave, &raw);
  cfmakeraw(&raw);  // bytes as written: no LF to CRLF
  tcsetattr(slave, TCSANOW, &raw);
  while (!text.empty()) {
    ssize_t n = write(slave, text.data(), text.size());
    if (n <= 0) throw std::runtime_error("cannot write to the pseudo-terminal");
    text.remove_prefix(static_cast<size_t>(n));
  }
  close(slave);
  return master;
}

}  // namespace reftrack::testing
