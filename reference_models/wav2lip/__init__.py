"""Wav2Lip (Prajwal et al., ACM MM 2020): audio front-end, networks, training and inference."""
