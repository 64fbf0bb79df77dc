"""Video decoding and encoding through PyAV."""

from .io import VideoData, VideoError, read_video, resample_frame_times, write_video

__all__ = ["VideoData", "VideoError", "read_video", "resample_frame_times", "write_video"]
