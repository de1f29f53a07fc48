// libgit2's mbedTLS backend parses the system's whole CA bundle inside
// git_libgit2_init(), for HTTPS remotes: about 140 certificates, base64 and
// ASN.1, which was most of the CPU time of `mlrepo changed` on a small range
// (perf: 30% of samples in mbedtls_base64_decode and friends, against 1% in
// libgit2 itself). mlrepo never talks to a remote through libgit2 (the
// registry goes through libcurl, `release --push` through git), so the
// executable provides these two functions and the dynamic linker binds
// libgit2's calls to them. They load nothing and succeed: a TLS connection
// libgit2 made would then trust no certificate and fail, never pass
// unchecked. Linked into the mlrepo executable only (see src/CMakeLists.txt,
// which exports the two symbols), so tests that link mlrepo_core keep
// libgit2's own behaviour.
extern "C" {

struct mbedtls_x509_crt;

int mbedtls_x509_crt_parse_file(mbedtls_x509_crt* /*chain*/, const char* /*path*/) { return 0; }
int mbedtls_x509_crt_parse_path(mbedtls_x509_crt* /*chain*/, const char* /*path*/) { return 0; }

} // extern "C"
