"""Small non-ELF kernel files for the CLI tests (layouts: Linux's boot.rst
and the Multiboot specification), with nothing but the standard library."""

import struct


def bzimage(xloadflags=0x7f, version=0x020f, cmdline_size=255,
            init_size=0x100000, pm_size=0x1000):
    """A bzImage: one setup sector, protocol `version`, preferred load
    address 16 MiB, then pm_size bytes of (hlt) protected-mode kernel."""
    b = bytearray(0x400)
    b[0x1f1] = 1
    struct.pack_into("<H", b, 0x1fe, 0xaa55)
    b[0x200:0x202] = b"\xeb\x6a"
    b[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", b, 0x206, version)
    b[0x211] = 1
    struct.pack_into("<I", b, 0x22c, 0x7fffffff)
    struct.pack_into("<I", b, 0x230, 0x200000)
    b[0x234] = 1
    struct.pack_into("<H", b, 0x236, xloadflags)
    struct.pack_into("<I", b, 0x238, cmdline_size)
    struct.pack_into("<Q", b, 0x258, 0x1000000)
    struct.pack_into("<I", b, 0x260, init_size)
    return bytes(b) + b"\xf4" * pm_size


def multiboot1(checksum_ok=True):
    """A Multiboot 1 kernel with address fields, loaded at 1 MiB."""
    flags = 0x10003
    b = bytearray(0x1000)
    csum = (-(0x1badb002 + flags)) & 0xffffffff
    if not checksum_ok:
        csum ^= 1
    struct.pack_into("<IIIIIIII", b, 0x20, 0x1badb002, flags, csum,
                     0x100020, 0x100000, 0, 0x105000, 0x100040)
    b[0x40] = 0xf4
    return bytes(b)
