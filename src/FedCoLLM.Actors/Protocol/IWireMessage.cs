namespace FedCoLLM.Actors.Protocol;

public interface IWireMessage { }
