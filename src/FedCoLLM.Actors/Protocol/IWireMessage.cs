namespace FedCoLLM.Actors.Protocol;

/// <summary>Marker for messages that cross the network; Hyperion serializes exactly these types.</summary>
public interface IWireMessage { }
