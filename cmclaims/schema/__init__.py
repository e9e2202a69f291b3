"""The shape of the data: input columns, their meaning, and the pandera schemas."""
