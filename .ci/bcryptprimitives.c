/* Stand-in for Windows' bcryptprimitives.dll, which Wine 8.0 lacks. Rust's std imports
 * ProcessPrng from it for HashMap seeds and other randomness, so without it every Windows test
 * binary fails to load under Wine (exit status 53). This forwards to advapi32's RtlGenRandom
 * (exported as SystemFunction036), which Wine implements over the host's random source.
 * Built and installed by .ci/run for the Windows-under-Wine tests only; never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* ProcessPrng takes a SIZE_T length, RtlGenRandom a ULONG one: feed it in chunks. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
