#pragma once
// Owned libgit2 handles. Every handle we own lives in one of these aliases so
// that its matching git_*_free runs exactly once; pointers libgit2 lends us
// (tree entries of a tree, index entries, deltas) are never wrapped.
#include <git2.h>
#include <memory>
#include <string>
#include <string_view>

namespace mlrepo::git {

template <typename T, void (*Free)(T*)> struct Deleter {
  void operator()(T* p) const {
    if (p)
      Free(p);
  }
};

using RepositoryPtr = std::unique_ptr<git_repository, Deleter<git_repository, git_repository_free>>;
using ObjectPtr = std::unique_ptr<git_object, Deleter<git_object, git_object_free>>;
using CommitPtr = std::unique_ptr<git_commit, Deleter<git_commit, git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, Deleter<git_tree, git_tree_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, Deleter<git_tree_entry, git_tree_entry_free>>;
using BlobPtr = std::unique_ptr<git_blob, Deleter<git_blob, git_blob_free>>;
using IndexPtr = std::unique_ptr<git_index, Deleter<git_index, git_index_free>>;
using DiffPtr = std::unique_ptr<git_diff, Deleter<git_diff, git_diff_free>>;
using ReferencePtr = std::unique_ptr<git_reference, Deleter<git_reference, git_reference_free>>;
using SignaturePtr = std::unique_ptr<git_signature, Deleter<git_signature, git_signature_free>>;
using ReferenceIteratorPtr =
    std::unique_ptr<git_reference_iterator, Deleter<git_reference_iterator, git_reference_iterator_free>>;

// The message of the last libgit2 error; git_error_last() may return NULL.
std::string last_error_message();

// Throws an Error (exit 3 by default) describing `what` when rc < 0.
void check(int rc, const std::string& what);

// Keeps libgit2 initialised for the lifetime of the process.
struct Library {
  Library() {
    git_libgit2_init();
    // mlrepo only reads objects; re-hashing every object read costs a fifth
    // of a large diff and git itself does not do it either.
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
  }
  ~Library() { git_libgit2_shutdown(); }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
};

std::string oid_hex(const git_oid& oid);
// The id git gives these bytes as a blob (a content hash, not a secure one).
std::string blob_hash(std::string_view bytes);
// The same for a file's content, read in pieces (artifacts may be large).
std::string file_blob_hash(const std::string& path);
// Whether two ids name the same object.
bool same(const git_oid& a, const git_oid& b);

} // namespace mlrepo::git
