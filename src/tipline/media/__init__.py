"""tipline.media: crypto and PDQ/vPDQ hashing, content sniffing and the encrypted blob store, with no server or DB."""

from tipline.keyfiles import (
    KeyFileError,
    create_key_file,
    load_or_create_key,
    read_key_file,
)
from tipline.media.archives import ArchiveInfo, ZipLimits, inspect_zip
from tipline.media.blobstore import (
    BlobIntegrityError,
    BlobNotFoundError,
    BlobReader,
    BlobStoreError,
    BlobTooLargeError,
    BlobWriter,
    EncryptedBlobStore,
    StoredBlob,
)
from tipline.media.crypto_hashes import (
    CryptoHashes,
    StreamingHasher,
    hash_bytes,
    hash_stream,
)
from tipline.media.errors import MediaError, Problem, ProblemCode
from tipline.media.hashing import FileHashes, HashOptions, hash_file
from tipline.media.images import (
    DEFAULT_MAX_IMAGE_PIXELS,
    DecodedImage,
    decode_for_hashing,
    open_image,
)
from tipline.media.pdq import (
    DIHEDRAL_NAMES,
    PDQ_MATCH_THRESHOLD,
    PDQ_MIN_MATCH_QUALITY,
    DihedralPdq,
    PdqHash,
    dihedral_from_image,
    pdq_distance,
    pdq_from_image,
)
from tipline.media.sniffing import (
    MediaKind,
    MediaType,
    declared_media_type,
    sniff_media_type,
)
from tipline.media.video import (
    VideoFrameHash,
    VideoMatchPolicy,
    VideoMatchResult,
    VideoSignature,
    from_threatexchange_vpdq,
    hash_video,
    match_videos,
    to_threatexchange_vpdq,
)

__all__ = [
    "DEFAULT_MAX_IMAGE_PIXELS",
    "DIHEDRAL_NAMES",
    "PDQ_MATCH_THRESHOLD",
    "PDQ_MIN_MATCH_QUALITY",
    "ArchiveInfo",
    "BlobIntegrityError",
    "BlobNotFoundError",
    "BlobReader",
    "BlobStoreError",
    "BlobTooLargeError",
    "BlobWriter",
    "CryptoHashes",
    "DecodedImage",
    "DihedralPdq",
    "EncryptedBlobStore",
    "FileHashes",
    "HashOptions",
    "KeyFileError",
    "MediaError",
    "MediaKind",
    "MediaType",
    "PdqHash",
    "Problem",
    "ProblemCode",
    "StoredBlob",
    "StreamingHasher",
    "VideoFrameHash",
    "VideoMatchPolicy",
    "VideoMatchResult",
    "VideoSignature",
    "ZipLimits",
    "create_key_file",
    "decode_for_hashing",
    "from_threatexchange_vpdq",
    "declared_media_type",
    "dihedral_from_image",
    "hash_bytes",
    "hash_file",
    "hash_stream",
    "hash_video",
    "inspect_zip",
    "load_or_create_key",
    "match_videos",
    "open_image",
    "pdq_distance",
    "pdq_from_image",
    "read_key_file",
    "sniff_media_type",
    "to_threatexchange_vpdq",
]
