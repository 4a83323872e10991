//! Values of the `open(2)` flags that `std` does not name, for `OpenOptionsExt::custom_flags`
//! (this crate forbids `unsafe`, so it has no `libc`). The values are those of the platform C
//! headers; they differ by OS and by CPU architecture, and a wrong value would be some other
//! flag, so only checked targets get one and the others get 0 (the flag is not set).

/// `O_NOFOLLOW`: refuse a symbolic link at the final path component.
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
pub(crate) const NO_FOLLOW: i32 = 0o100000;
/// `O_NOFOLLOW`: refuse a symbolic link at the final path component.
#[cfg(any(
    all(
        any(target_os = "linux", target_os = "android"),
        any(
            target_arch = "x86_64",
            target_arch = "x86",
            target_arch = "riscv64",
            target_arch = "riscv32",
            target_arch = "s390x",
            target_arch = "loongarch64",
            target_arch = "mips",
            target_arch = "mips64",
            target_arch = "sparc64"
        )
    ),
    target_os = "solaris",
    target_os = "illumos"
))]
pub(crate) const NO_FOLLOW: i32 = 0o400000;
/// `O_NOFOLLOW`: refuse a symbolic link at the final path component.
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
pub(crate) const NO_FOLLOW: i32 = 0x100;
/// Elsewhere the open may follow a link; `open::file` still refuses what it opened
/// through one.
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
pub(crate) const NO_FOLLOW: i32 = 0;

/// `O_NONBLOCK`: the open itself returns at once, whatever is at the path. Opening a FIFO
/// for reading otherwise waits for a writer (for ever, if another user planted it), and a
/// device may wait for its hardware. On regular files and directories it changes nothing.
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "powerpc",
        target_arch = "powerpc64",
        target_arch = "riscv64",
        target_arch = "riscv32",
        target_arch = "s390x",
        target_arch = "loongarch64",
        target_arch = "m68k"
    )
))]
pub(crate) const NON_BLOCK: i32 = 0o4000;
/// `O_NONBLOCK`: the open itself returns at once, whatever is at the path.
#[cfg(any(
    all(
        any(target_os = "linux", target_os = "android"),
        any(target_arch = "mips", target_arch = "mips64")
    ),
    target_os = "solaris",
    target_os = "illumos"
))]
pub(crate) const NON_BLOCK: i32 = 0o200;
/// `O_NONBLOCK`: the open itself returns at once, whatever is at the path.
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    target_arch = "sparc64"
))]
pub(crate) const NON_BLOCK: i32 = 0x4000;
/// `O_NONBLOCK`: the open itself returns at once, whatever is at the path.
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
pub(crate) const NON_BLOCK: i32 = 0x4;
/// Elsewhere a FIFO planted at a path can make its open wait; what was opened is still
/// refused unless it is a regular file.
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
pub(crate) const NON_BLOCK: i32 = 0;
