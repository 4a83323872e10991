//! Values of the `open(2)` flags that `std` does not name, for `OpenOptionsExt::custom_flags`
//! (this crate forbids `unsafe`, so it has no `libc`). The values are those of the platform C
//! headers; they differ by OS and by CPU architecture, and a wrong value would be some other
//! flag, so only checked targets get one and the others get 0 (the flag is not set).
//!
//! `O_NOFOLLOW` refuses a symbolic link at the final path component. `O_NONBLOCK` makes the
//! open itself return at once, whatever is at the path: opening a FIFO for reading otherwise
//! waits for a writer (for ever, if another user planted it), and a device may wait for its
//! hardware; on regular files and directories it changes nothing.

/// `(O_NOFOLLOW, O_NONBLOCK)` of this target.
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "powerpc",
        target_arch = "powerpc64",
        target_arch = "m68k"
    )
))]
const FLAGS: (i32, i32) = (0o100000, 0o4000);
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "riscv64",
        target_arch = "riscv32",
        target_arch = "s390x",
        target_arch = "loongarch64"
    )
))]
const FLAGS: (i32, i32) = (0o400000, 0o4000);
#[cfg(any(
    all(
        any(target_os = "linux", target_os = "android"),
        any(target_arch = "mips", target_arch = "mips64")
    ),
    target_os = "solaris",
    target_os = "illumos"
))]
const FLAGS: (i32, i32) = (0o400000, 0o200);
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    target_arch = "sparc64"
))]
const FLAGS: (i32, i32) = (0o400000, 0x4000);
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
const FLAGS: (i32, i32) = (0x100, 0x4);
/// Elsewhere neither flag is set: the open may follow a link (what was opened through one is
/// still refused) and a FIFO planted at a path can make its open wait (what was opened is
/// still refused unless it is a regular file).
#[cfg(all(
    unix,
    not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    ))
))]
const FLAGS: (i32, i32) = (0, 0);

/// `O_NOFOLLOW` (0 where unknown).
#[cfg(unix)]
pub(crate) const NO_FOLLOW: i32 = FLAGS.0;
/// `O_NONBLOCK` (0 where unknown).
#[cfg(unix)]
pub(crate) const NON_BLOCK: i32 = FLAGS.1;
